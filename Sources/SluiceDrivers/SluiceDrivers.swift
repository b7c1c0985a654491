// Placeholder until SluiceDrivers lands.
