/// `SplitMix64` and `Xoshiro256` are part of the harness's public API (seeds, link streams):
/// they live in SluiceRandom, the package's one place for seeded randomness, and come with
/// `import SluiceHarness`.
@_exported import SluiceRandom
