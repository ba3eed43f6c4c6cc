"""The offline demo corpus: English speech synthesised with eSpeak NG, emotions acted through prosody."""
