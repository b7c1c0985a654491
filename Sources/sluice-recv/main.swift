print("sluice-recv: not built yet")
