"""Audio in and out, never losing what the user had: the arrays users hand us checked (`arrays`), audio files read
and written (`audio_files`; libsndfile, PyAV in `decode` for the rest), and files placed whole or not at all
(`atomic`)."""
