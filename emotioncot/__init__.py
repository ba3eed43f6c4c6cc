"""emotioncot: speech-emotion reasoning datasets (EmotionCoT style), built reproducibly from real corpora."""

__version__ = "0.1.0"
