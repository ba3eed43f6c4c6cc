"""Token usage and what it costs, from per-million-token prices (input and output priced separately)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, prompt_tokens: int, completion_tokens: int, requests: int = 0) -> None:
        self.requests += requests
        self.prompt_tokens += prompt_tokens or 0
        self.completion_tokens += completion_tokens or 0

    def cost(self, price_input_per_mtok: float | None, price_output_per_mtok: float | None) -> float | None:
        """The cost in the prices' currency, or None when no price is given."""
        if price_input_per_mtok is None and price_output_per_mtok is None:
            return None
        return round(
            self.prompt_tokens / 1e6 * (price_input_per_mtok or 0.0)
            + self.completion_tokens / 1e6 * (price_output_per_mtok or 0.0),
            6,
        )

    def as_dict(self, price_in: float | None = None, price_out: float | None = None) -> dict:
        out = {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
               "completion_tokens": self.completion_tokens}
        cost = self.cost(price_in, price_out)
        if cost is not None:
            out["cost"] = cost
        return out
