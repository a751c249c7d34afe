"""Real instrument recordings and real noises as training data, and the real development set."""
