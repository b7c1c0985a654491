// Placeholder until SluiceTrace lands.
