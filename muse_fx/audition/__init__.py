"""`muse-fx audition`: render one excerpt several ways and write a self-contained page to compare them by ear.

variants.py plans what to render and how to reproduce it; render.py renders and measures it; page.py writes the
page (templates in assets/); serve.py serves it on 127.0.0.1; summarise.py pools blind-test ratings.
"""
