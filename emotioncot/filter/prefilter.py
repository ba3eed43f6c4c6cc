"""Regular expressions that skip, by substring tests, text they cannot match.

The grounding reader rewrites every clause with some forty phrase patterns in turn (``lexicon.PHRASES``)
and reads age words with seventeen more; most of them match nothing in a given clause, yet each one scans
it. ``required_literals`` reads a pattern's parse tree and returns strings of which any match must contain
one ("up", "upward", "upwards" for ``(?:goes|went|...)\\s+up(?:ward|wards)?\\b``); ``guard_keys`` shortens
such a list to a few keys with the same promise; ``Rewriter`` tests the keys of all its patterns with ``in``
(a fast substring search) and runs a pattern only when one of its keys is present. The result is the
regexes' own: a pattern is skipped only where it provably cannot match, and a pattern whose required text
cannot be worked out (or that ignores case) is always run.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from typing import Callable
try:  # the regex parser: re._parser from Python 3.11, sre_parse before
    from re import _constants as C  # noqa: N812  (the parser's opcodes)
    from re import _parser as sre_parse
except ImportError:  # Python 3.10
    import sre_constants as C  # noqa: N812
    import sre_parse

_REPEATS = tuple(getattr(C, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(C, name))
_ATOMIC_GROUP = getattr(C, "ATOMIC_GROUP", None)  # Python 3.11 and later
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)  # consume nothing: they add no text to a match
_CHARSET_MAX = 4  # a class of up to this many literal characters is read as alternatives ("[-\s]" is not)
_SPELLINGS_MAX = 32  # the most spellings one literal run is expanded to ("n't" and "n’t")


def _best(candidates: list[frozenset]) -> frozenset | None:
    """The most selective set: the longest shortest string, then the fewest strings."""
    candidates = [c for c in candidates if c and all(c)]
    if not candidates:
        return None
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)))


def _ignores_case(op, av) -> bool:
    return op is C.SUBPATTERN and bool(av[1] & C.SRE_FLAG_IGNORECASE)


def _spellings(op, av) -> frozenset | None:
    """Every text the item matches, when that is a short list of fixed strings (else None)."""
    if op is C.LITERAL:
        return frozenset({chr(av)})
    if op in _ZERO_WIDTH:
        return frozenset({""})
    if op is C.IN and len(av) <= _CHARSET_MAX and all(o is C.LITERAL for o, _ in av):
        return frozenset(chr(v) for _, v in av)
    if op is C.SUBPATTERN and not _ignores_case(op, av):
        return _sequence_spellings(av[-1])
    if op is C.BRANCH:
        branches = [_sequence_spellings(b) for b in av[1]]
        if any(b is None for b in branches):
            return None
        union = frozenset().union(*branches)
        return union if len(union) <= _SPELLINGS_MAX else None
    if op in _REPEATS and tuple(av[:2]) == (0, 1):
        body = _sequence_spellings(av[2])
        return None if body is None else body | {""}
    return None


def _sequence_spellings(items) -> frozenset | None:
    out = frozenset({""})
    for op, av in items:
        item = _spellings(op, av)
        if item is None:
            return None
        out = frozenset(a + b for a in out for b in item)
        if len(out) > _SPELLINGS_MAX:
            return None
    return out


def _required(items) -> frozenset | None:
    """Strings one of which every match of the sequence ``items`` contains, or None when unknown."""
    return _best(_required_all(items))


def _required_all(items) -> list[frozenset]:
    """Sets of strings, every one of which a match of the sequence ``items`` holds a string of. Runs of
    items with a few fixed spellings are joined ("in " + "his|her|their" + " " gives "in his ", ...); of the
    other items, what they require in turn."""
    candidates: list[frozenset] = []
    run = frozenset({""})
    for op, av in items:
        item = _spellings(op, av)
        if item is not None:
            joined = frozenset(a + b for a in run for b in item)
            if len(joined) <= _SPELLINGS_MAX:
                run = joined
                continue
            candidates.append(run)
            run = item
            continue
        candidates.append(run)
        run = frozenset({""})
        if _ignores_case(op, av):
            continue  # "(?i:...)" matches text its literals do not spell
        if op is C.SUBPATTERN:
            candidates.append(_required(av[-1]))
        elif _ATOMIC_GROUP is not None and op is _ATOMIC_GROUP:
            candidates.append(_required(av))
        elif op is C.BRANCH:
            branches = [_required(b) for b in av[1]]
            if all(branches):
                candidates.append(frozenset().union(*branches))
        elif op in _REPEATS and av[0] >= 1:
            candidates.append(_required(av[2]))
        # anything else ("." or a negated or category class, an optional part) requires no known text
    candidates.append(run)
    return [c for c in candidates if c and all(c)]


def required_literals(pattern: re.Pattern) -> frozenset | None:
    """Strings one of which every match of ``pattern`` contains (None: no such guarantee is known)."""
    if pattern.flags & re.IGNORECASE or not isinstance(pattern.pattern, str):
        return None
    return _required(sre_parse.parse(pattern.pattern, pattern.flags))


def guard_keys(literals: frozenset | None) -> frozenset | None:
    """Fewer, shorter strings with the same promise: each of ``literals`` contains one of them ("time" for
    "takes her time", "took their time", ...), so a text holding none of them holds none of ``literals``."""
    if literals is None:
        return None
    remaining, keys = set(literals), set()
    while remaining:
        counts: dict[str, int] = {}
        for lit in sorted(remaining):
            for part in _parts(lit):
                counts[part] = counts.get(part, 0) + 1
        best = max(sorted(counts), key=lambda w: (counts[w], len(w)))
        keys.add(best)
        remaining = {lit for lit in remaining if best not in lit}
    return frozenset(keys)


_KEY_WORD = re.compile(r"[^\s-]+")


def _parts(lit: str) -> set[str]:
    """The strings a key for ``lit`` may be: itself, its words of three letters or more, and each two words
    in a row as written ("in his" of "in his forties": as common as "his", and not inside "this")."""
    spans = [m.span() for m in _KEY_WORD.finditer(lit)]
    words = {lit[a:b] for a, b in spans if b - a >= 3}
    pairs = {lit[a:d] for (a, _), (_, d) in zip(spans, spans[1:])}
    return {lit, *words, *pairs}


def _fewest_first(sets) -> list[frozenset]:
    """Sets that must each have a string in the text, the smallest first: a text that fails one then fails
    after the fewest substring tests (every set is tested when it has them all, in any order). A string that
    holds another of its set is left out ("words" beside "word"): the text holds one of the set either way."""
    least = [frozenset(k for k in keys if not any(o != k and o in k for o in keys)) for keys in sets]
    return sorted(least, key=lambda keys: (len(keys), sorted(keys)))


def _has_space(key: str) -> bool:
    return len(key.split()) != 1 or key.split()[0] != key


class Rewriter:
    """Patterns applied in turn, each to the text the earlier ones left (``pattern.sub``), where a pattern
    runs only if the text holds one of its guard keys. Which keys the text holds is found once, and again
    only after a pattern changed the text (a replacement can bring in a key or join two words into one)."""

    def __init__(self, patterns: list[str | re.Pattern], flags: int = 0):
        self.patterns = [re.compile(p, flags) if isinstance(p, str) else p for p in patterns]
        self.guards = [guard_keys(required_literals(p)) for p in self.patterns]
        self.keys = tuple(sorted(frozenset().union(*(g for g in self.guards if g))))
        # per key, the patterns it lets run; patterns without a guard always run
        self.users = {k: tuple(i for i, g in enumerate(self.guards) if g and k in g) for k in self.keys}
        self.unguarded = tuple(i for i, g in enumerate(self.guards) if g is None)
        # A key that holds another ("falling" holds "fall") is looked for only where that one was found: each
        # key below the longest key it holds, the others at the top.
        self.top = tuple(k for k in self.keys if not any(j != k and j in k for j in self.keys))
        self.below: dict[str, tuple[str, ...]] = {}
        for k in self.keys:
            if k not in self.top:
                holder = max((j for j in self.keys if j != k and j in k), key=lambda j: (len(j), j))
                self.below[holder] = self.below.get(holder, ()) + (k,)

        # A key without white space is in a text only inside one of its white-space-separated chunks, and the
        # chunks of clauses are a small vocabulary: per chunk, the patterns its keys let run are kept
        # (``_chunk_due``). A key with white space ("a bit") is looked for in the whole text, and only where a
        # chunk holds its longest piece ("bit"), which it must.
        self._spaced_by_piece: dict[str, tuple[str, ...]] = {}
        for k in self.keys:
            if _has_space(k):
                piece = max(k.split(), key=lambda w: (len(w), w))
                self._spaced_by_piece[piece] = self._spaced_by_piece.get(piece, ()) + (k,)
        self._solid = tuple(k for k in self.keys if not _has_space(k))
        self._pieces = tuple(self._spaced_by_piece)
        self._chunk_due = lru_cache(maxsize=1 << 14)(self._chunk_reading)

    def _chunk_reading(self, chunk: str) -> frozenset:
        """The patterns (their numbers) whose keys without white space ``chunk`` holds, and the keys with white
        space (strings) whose longest piece it holds: one set, so that a text's chunks are joined in one call."""
        found: set = set()
        for key in filter(chunk.__contains__, self._solid):  # the keys tested in C; few are held
            found.update(self.users[key])
        for piece in filter(chunk.__contains__, self._pieces):
            found.update(self._spaced_by_piece[piece])
        return frozenset(found)

    def _held(self, text: str) -> list[str]:
        """The keys ``text`` holds."""
        held = list(filter(text.__contains__, self.top))  # filter over a bound method: no Python frame per key
        for key in held:  # grows while it is read: keys below a held key, and below those
            if key in self.below:
                held.extend(filter(text.__contains__, self.below[key]))
        return held

    def _due(self, text: str, after: int) -> list[int]:
        """The patterns after number ``after`` that ``text`` holds a guard key of (or that have no guard), in order."""
        due = set(self.unguarded)
        for found in set().union(*map(self._chunk_due, text.split())):
            if found.__class__ is int:
                due.add(found)
            elif found in text:  # a key with white space, whose longest piece a chunk holds
                due.update(self.users[found])
        return sorted(i for i in due if i > after)

    def _due_plain(self, text: str, after: int) -> list[int]:
        """``_due`` from every key tested on the whole text (the reference the tests compare with)."""
        due = set(self.unguarded)
        for key in self._held(text):
            due.update(self.users[key])
        return sorted(i for i in due if i > after)

    def rewrite(self, text: str, repl: Callable[[int], str | Callable[[re.Match], str]]) -> str:
        """``text`` after ``self.patterns[i].sub(repl(i), ...)`` for each i in order (``repl(i)`` is asked
        for only where pattern i runs)."""
        due = self._due(text, -1)
        k = 0
        while k < len(due):
            i = due[k]
            k += 1
            new = self.patterns[i].sub(repl(i), text)
            if new != text:
                text = new
                due, k = self._due(text, i), 0
        return text


def folded_requirements(pattern: re.Pattern) -> list[frozenset]:
    """Sets of strings, each of which has a string in every match of ``pattern``; for a pattern that
    ignores case, lower-cased, and to be looked for in the lower-cased text of an ASCII text (sets that
    are not all ASCII are left out: a non-ASCII letter can match an ASCII one when case is ignored)."""
    if not isinstance(pattern.pattern, str):
        return []
    found = _required_all(sre_parse.parse(pattern.pattern, pattern.flags))
    if not pattern.flags & re.IGNORECASE:
        return found
    return [frozenset(lit.lower() for lit in s) for s in found if all(lit.isascii() for lit in s)]


def top_level_branches(source: str) -> list[str]:
    """The alternatives of a pattern's top level ("a|(b|c)" gives "a", "(b|c)")."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 2 if source[i + 1 : i + 2] == "]" else 3 if source[i + 1 : i + 3] == "^]" else 1
            continue  # a "]" right after "[" or "[^" is a member, not the end
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


def _starts(pattern: re.Pattern) -> frozenset | None:
    """The strings every match of ``pattern`` begins with (lower-cased where it ignores case), when it
    begins with items of a few fixed spellings ("\\bstep\\s+..." begins with "step")."""
    if not isinstance(pattern.pattern, str):
        return None
    found = _prefixes(sre_parse.parse(pattern.pattern, pattern.flags))
    if found is None or not all(found) or (pattern.flags & re.IGNORECASE and not all(s.isascii() for s in found)):
        return None
    return frozenset(s.lower() for s in found) if pattern.flags & re.IGNORECASE else found


def _prefixes(items) -> frozenset | None:
    """Strings one of which every match of the sequence ``items`` begins with: its opening items of a few fixed
    spellings, and where a group or an alternation ends that run, what each of its alternatives opens with
    ("(?:stresses|lands\\s+on)" opens with "stresses" or "lands"). None where some match may open otherwise."""
    found = frozenset({""})
    for op, av in items:
        item = _spellings(op, av)
        if item is None:  # a group or an alternation: the openings of its alternatives, then stop
            if op is C.SUBPATTERN and not _ignores_case(op, av):
                item = _prefixes(av[-1])
            elif op is C.BRANCH:
                branches = [_prefixes(b) for b in av[1]]
                item = None if any(b is None for b in branches) else frozenset().union(*branches)
            joined = None if item is None else frozenset(a + b for a in found for b in item)
            if joined is not None and len(joined) <= _SPELLINGS_MAX:
                found = joined
            break
        joined = frozenset(a + b for a in found for b in item)
        if len(joined) > _SPELLINGS_MAX:
            break
        found = joined
    return found


def _match_at_starts(pattern: re.Pattern, text: str, probe: str, starts: frozenset, pos: int) -> re.Match | None:
    """``pattern.search(text, pos)``, trying only the positions where ``probe`` (``text`` or its lower-cased
    ASCII copy, of the same length) has one of ``starts``: a match can begin nowhere else, and the first
    position that matches is the one ``search`` finds."""
    return _match_at(pattern, text, _start_positions(probe, starts, pos), pos)


def _start_positions(probe: str, starts: frozenset, pos: int) -> list[int]:
    """Every position from ``pos`` on where ``probe`` holds one of ``starts``, in order."""
    positions = set()
    for start in starts:
        at = probe.find(start, pos)
        while at >= 0:
            positions.add(at)
            at = probe.find(start, at + 1)
    return sorted(positions)


def _match_at(pattern: re.Pattern, text: str, positions: list[int], pos: int) -> re.Match | None:
    """The first match of ``pattern`` at one of ``positions`` (in order) from ``pos`` on."""
    for at in positions[bisect_left(positions, pos):]:
        m = pattern.match(text, at)
        if m is not None:
            return m
    return None


class FirstMatch:
    """``pattern.search(text)`` for a pattern that is an alternation, run branch by branch, each only when
    the text holds one of its keys (for a pattern that ignores case, an ASCII text is tested lower-cased;
    other text runs every branch). The earliest match wins, and at one position the first branch, as in
    the alternation itself; the match object is the branch's (``group(0)``, ``start``, ``end`` agree; a
    pattern with several branches may have no groups)."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.fold = bool(pattern.flags & re.IGNORECASE)
        self.branches = [re.compile(b, pattern.flags) for b in top_level_branches(pattern.pattern)]
        if pattern.groups and len(self.branches) > 1:  # a branch's match would number its groups differently
            raise ValueError(f"FirstMatch needs a pattern without groups, or with one top-level branch: {pattern.pattern!r}")
        # per branch, every set of strings it needs (all must be present): "speaker" and ":" for
        # "^\\s*speaker\\s*:", where "speaker" alone is in most rationales
        self.guards = [_fewest_first(guard_keys(s) for s in folded_requirements(b)) for b in self.branches]
        self.starts = [_starts(b) or _anchor(b) for b in self.branches]

    def search(self, text: str, pos: int = 0) -> re.Match | None:
        probe = self._probe(text)
        best = None
        for branch, starts in self._live(probe):
            m = _branch_search(branch, starts, text, probe, pos)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best

    def finditer(self, text: str):
        """``pattern.finditer(text)``, for a pattern that never matches the empty string. Each branch's next
        match is kept until the search passes it: the first match of a branch from a later position is the
        same one while it starts at or after that position."""
        probe = self._probe(text)
        live = self._live(probe)  # which branches the text may hold does not change from one match to the next
        # where a branch's matches may begin is found once for the whole text, and read on from each position
        at = [_start_positions(probe, starts, 0) if isinstance(starts, frozenset) else None for _, starts in live]
        ahead = [_branch_search(branch, starts, text, probe, 0, at[i]) for i, (branch, starts) in enumerate(live)]
        pos = 0
        while True:
            best = None
            for i, (branch, starts) in enumerate(live):
                m = ahead[i]
                if m is not None and m.start() < pos:
                    m = ahead[i] = _branch_search(branch, starts, text, probe, pos, at[i])
                if m is not None and (best is None or m.start() < best.start()):
                    best = m
            if best is None:
                return
            yield best
            pos = best.end()

    def _probe(self, text: str) -> str | None:
        """The text the keys are looked for in (None: non-ASCII text under a pattern that ignores case)."""
        if not self.fold:
            return text
        return text.lower() if text.isascii() else None

    def _live(self, probe: str | None) -> list[tuple[re.Pattern, frozenset | None]]:
        """The branches (with the strings their matches begin with) whose keys the text holds."""
        if probe is None:
            return [(branch, None) for branch in self.branches]
        holds = probe.__contains__
        live = []
        for branch, needs, starts in zip(self.branches, self.guards, self.starts):
            for keys in needs:  # a plain loop: no generator per branch
                if not any(map(holds, keys)):
                    break
            else:
                live.append((branch, starts))
        return live


def _branch_search(branch: re.Pattern, starts, text: str, probe: str | None, pos: int,
                   positions: list[int] | None = None) -> re.Match | None:
    """``branch.search(text, pos)``, trying only the positions where a match may begin when those are known
    (``positions``: those of ``starts`` in the whole text, where the caller has them)."""
    if positions is not None:
        return _match_at(branch, text, positions, pos)
    if starts is None:
        return branch.search(text, pos)
    if starts is _LINE_START:
        return _match_at_line_starts(branch, text, pos)
    if starts is _TEXT_START:
        return branch.match(text) if pos == 0 else None
    return _match_at_starts(branch, text, probe, starts, pos)


# A branch that opens with "^" matches only where a line starts (re.M) or at the start of the text: those are
# the positions to try, not every one (lists, headings and prompt headers are looked for this way).
_LINE_START, _TEXT_START = object(), object()


def _anchor(pattern: re.Pattern):
    """``_LINE_START`` or ``_TEXT_START`` for a pattern whose first item is "^" or "\\A", else None."""
    if not isinstance(pattern.pattern, str):
        return None
    items = sre_parse.parse(pattern.pattern, pattern.flags)
    if not len(items):
        return None
    op, av = items[0]
    if op is C.AT and av is C.AT_BEGINNING:
        return _LINE_START if pattern.flags & re.MULTILINE else _TEXT_START
    if op is C.AT and av is C.AT_BEGINNING_STRING:
        return _TEXT_START
    return None


def _match_at_line_starts(pattern: re.Pattern, text: str, pos: int) -> re.Match | None:
    """``pattern.search(text, pos)`` for a pattern that opens with "^" under re.M: tried at ``pos`` where a line
    starts there, then after each newline ("^" matches nowhere else; Python's re.M takes only "\\n" as one)."""
    if pos > len(text):
        return pattern.search(text, pos)
    if pos == 0 or text[pos - 1] == "\n":
        at = pos
    else:
        at = text.find("\n", pos) + 1
        if at == 0:
            return None
    while True:
        m = pattern.match(text, at)
        if m is not None:
            return m
        at = text.find("\n", at) + 1
        if at == 0:
            return None


class Guard:
    """A substring test to run before a pattern: ``may_match(text)`` is False only where the text lacks
    every string of a set that each match holds one of (``folded_requirements``; for a pattern that ignores
    case, tested on the lower-cased text of an ASCII text, and always True on other text). ``search`` is
    ``pattern.search`` behind that test."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.fold = bool(pattern.flags & re.IGNORECASE)
        self.needs = [tuple(sorted(keys)) for keys in _fewest_first(guard_keys(s) for s in folded_requirements(pattern))]

    def may_match(self, text: str, lowered: str | None = None) -> bool:
        """``lowered``: ``text.lower()`` where the caller has it already."""
        if self.fold:
            if not text.isascii():
                return True
            text = text.lower() if lowered is None else lowered
        holds = text.__contains__
        for keys in self.needs:
            if not any(map(holds, keys)):
                return False
        return True

    def search(self, text: str, lowered: str | None = None) -> re.Match | None:
        return self.pattern.search(text) if self.may_match(text, lowered) else None


def blind_to(pattern: re.Pattern, chars: str) -> bool:
    """Whether ``pattern`` treats every character of ``chars`` alike: none of them is a literal of it, no
    range takes some of them and not others, and there is no back-reference (which could compare them).
    Then a text and the text with those characters swapped among themselves match at the same places."""
    codes = {ord(c) for c in chars}
    return isinstance(pattern.pattern, str) and _blind_items(sre_parse.parse(pattern.pattern, pattern.flags), codes)


def _blind_items(items, codes: set[int]) -> bool:
    for op, av in items:
        if op in (C.LITERAL, C.NOT_LITERAL):
            if av in codes:
                return False
        elif op is C.IN:
            for o, a in av:
                if o in (C.LITERAL, C.NOT_LITERAL) and a in codes:
                    return False
                if o is C.RANGE and 0 < sum(a[0] <= c <= a[1] for c in codes) < len(codes):
                    return False
                if o not in (C.LITERAL, C.NOT_LITERAL, C.RANGE, C.CATEGORY, C.NEGATE):
                    return False
        elif op is C.SUBPATTERN:
            if not _blind_items(av[-1], codes):
                return False
        elif op is C.BRANCH:
            if not all(_blind_items(b, codes) for b in av[1]):
                return False
        elif op in _REPEATS:
            if not _blind_items(av[2], codes):
                return False
        elif op in (C.ASSERT, C.ASSERT_NOT):
            if not _blind_items(av[1], codes):
                return False
        elif _ATOMIC_GROUP is not None and op is _ATOMIC_GROUP:
            if not _blind_items(av, codes):
                return False
        elif op not in (C.AT, C.ANY, C.CATEGORY):
            return False  # a back-reference, or an item this reader does not know: not known to be blind
    return True
