"""Degradations applied on the fly in torch (any device); every draw returns the parameters it used."""
