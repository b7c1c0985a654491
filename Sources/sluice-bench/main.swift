print("sluice-bench: not built yet")
