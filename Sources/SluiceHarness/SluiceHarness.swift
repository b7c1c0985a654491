// Placeholder until SluiceHarness lands.
