"""Training-side code: clean-data rendering, on-the-fly degradations, trainers and export (`muse_fx[train]`)."""
