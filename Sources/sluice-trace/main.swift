print("sluice-trace: not built yet")
