"""The model core: log-mel, mel2mel, the musecoder and its diffusion, the fast path, chunking and the one chunk
feeder, weights, the registry of bundled models and the defaults it implies, and `pipeline.Enhancer`, which
enhances (channels, samples) tensors."""
