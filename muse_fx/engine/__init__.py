"""The model core: log-mel, mel2mel, the musecoder and its diffusion, the fast path, chunking, weights and
the registry of bundled models."""
