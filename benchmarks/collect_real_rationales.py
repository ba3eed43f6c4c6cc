"""Collect captions and rationales that a real model writes, for hand labelling (tests/data/rationales/).

Starts the real llama.cpp server of tests/real_llm.py (SmolLM2-135M-Instruct), fills the project's prompt
files for records of a finished build folder, and appends one JSON line per record to OUT: the record's
measured facts (release field names), the caption, the rationale, the raw answers and the model. Nothing
is labelled here; labels are added by hand afterwards (``expected``).

    python benchmarks/collect_real_rationales.py --build /tmp/b --out /tmp/real.jsonl --n 40 --skip 0
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from emotioncot.pipeline import load_records  # noqa: E402
from emotioncot.workspace import Workspace  # noqa: E402
from emotioncot.write.llm import load_prompts  # noqa: E402
from emotioncot.config import WriteConfig  # noqa: E402
from emotioncot.write.prompts import prompt_values  # noqa: E402
from emotioncot.write.structured import response_format, parse_answer  # noqa: E402

FIELDS = ("id", "gender", "age_level", "pitch_level", "energy_level", "speed_level", "intonation", "stressed_words",
          "transcript", "emotion", "pause_count", "duration_s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--skip", type=int, default=0, help="records of the shuffled order to skip (a second, disjoint set)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--captions", action="store_true", help="also ask for a caption (twice the time)")
    a = ap.parse_args()
    from concurrent.futures import ThreadPoolExecutor

    import openai
    from real_llm import RealServer

    records = load_records(Workspace(a.build), with_texts=False)
    random.Random(a.seed).shuffle(records)
    records = records[a.skip : a.skip + a.n]
    prompts = load_prompts(WriteConfig(label_mode="aware"))
    done = set()
    if a.out.exists():
        done = {json.loads(line)["id"] for line in a.out.read_text().splitlines() if line.strip()}
    with RealServer(n_parallel=a.parallel) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="no-key", timeout=600, max_retries=0)

        def ask(rec: dict, task: str) -> tuple[str, str, str]:
            prompt = prompts[task]
            messages = prompt.fill(prompt_values(rec, "aware"))
            r = client.chat.completions.create(model=server.model, messages=messages, max_tokens=prompt.max_tokens,
                                               temperature=0.7, seed=a.seed,
                                               response_format=response_format(task, "aware"))
            raw = r.choices[0].message.content or ""
            return parse_answer(raw, task), raw, r.choices[0].finish_reason

        def one(rec: dict) -> dict:
            t0 = time.time()
            caption, raw_c, fin_c = ask(rec, "caption") if a.captions else (None, None, None)
            rationale, raw_r, fin_r = ask(rec, "rationale")
            row = {k: rec.get(k) for k in FIELDS}
            row.update(caption=caption, cot_analysis=rationale, raw_caption=raw_c, raw_rationale=raw_r,
                       finish=[fin_c, fin_r], model="SmolLM2-135M-Instruct.Q4_1", prompt_id=prompts["rationale"].id,
                       seconds=round(time.time() - t0, 1))
            return row

        todo = [r for r in records if r["id"] not in done]
        with ThreadPoolExecutor(a.parallel) as pool, a.out.open("a") as out:
            for row in pool.map(one, todo):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
                print(row["id"], row["seconds"], "s", file=sys.stderr)


if __name__ == "__main__":
    main()
