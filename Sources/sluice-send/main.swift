print("sluice-send: not built yet")
