"""Writing captions and chain-of-thought rationales: the offline template writer and the LLM writer."""
