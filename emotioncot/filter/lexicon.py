"""Words a rationale uses for pitch, loudness, rate, intonation, stress, gender and age.

Kept as data, apart from the logic that reads them (``grounding.py``), so that a reviewer can see what
is understood and extend it. Levels are abstract here: ``high`` / ``low`` / ``normal``; for speaking
rate ``high`` means fast and ``low`` slow.
"""

from __future__ import annotations

PITCH, ENERGY, SPEED = "pitch", "energy", "speed"
ALL = frozenset({PITCH, ENERGY, SPEED})

# Multi-word phrases rewritten to one token before reading (applied to lower-cased clauses, in order).
PHRASES: list[tuple[str, str]] = [
    # comparisons with the speaker's own baseline: "higher than usual" is a claim of "higher", not of "usual"
    (r"\bthan (?:(?:his|her|their|its|the speaker['’]s|the|a|an)\s+)?(?:own\s+)?(?:usual|normal|typical|average|baseline|ordinary|regular|neutral)"
     r"(?:\s+(?:level|range|register|pitch|voice|pace|rate|volume|loudness|energy|tempo|speech|self))?\b", " "),
    (r"\b(?:above|over) (?:(?:his|her|their|the speaker['’]s|the)\s+)?(?:usual|normal|typical|average|baseline)\b", " higher "),
    (r"\bbelow (?:(?:his|her|their|the speaker['’]s|the)\s+)?(?:usual|normal|typical|average|baseline)\b", " lower "),
    (r"\bnot only\b", " "),
    (r"\bn['’]t\b", " neg "),
    (r"\bcannot\b", " can neg "),
    (r"\b(?:rather than|instead of|free of|far from|in no|absence of|lacks?|lacking|rules? out|ruling out|no sign of|no hint of)\b", " neg "),
    (r"\bas (?:if|though)\b", " asif "),
    (r"\b(?:speaking|speech|articulation|talking) (?:rate|pace|speed|tempo)\b", " rate "),
    (r"\brate of (?:speech|speaking|delivery)\b", " rate "),
    (r"\b(?:pitch|energy|volume|loudness) levels?\b", lambda m: " " + m.group(0).split()[0] + " "),
    # intensity of the feeling is not loudness of the voice
    (r"\bemotional (?:intensity|energy|force|power)\b|\b(?:intensity|energy|force|power) of (?:the |his |her |their )?"
     r"(?:emotion|emotions|feeling|feelings|anger|sadness|fear|joy|happiness|disgust|contempt|surprise|reaction)\b", " affect "),
    (r"\bvocal (?:energy|effort|intensity|power)\b", " energy "),
    (r"\bfundamental frequency\b", " f0 "),
    (r"\bmid(?:dle)?[- ]?range\b|\bmid[- ]level\b", " midrange "),
    (r"\braised (?:his |her |their )?voice\b|\bvoice (?:is |was )?raised\b", " loud "),
    (r"\b(?:at|in) (?:full|top) volume\b|\bat the top of (?:his|her|their) (?:lungs|voice)\b", " loudly "),
    (r"\bunder (?:his|her|their|one['’]s) breath\b|\bbarely audible\b|\bbarely above a whisper\b", " quietly "),
    (r"\b(?:takes?|taking|took) (?:his|her|their) time\b", " slowly "),
    (r"\bin a (?:rush|hurry)\b", " hurriedly "),
    (r"\bdrawn[- ]out\b", " slowly "),
    (r"\b(?:draw|draws|drawing|drew|stretch|stretches|stretching|stretched)\s+(?:(?:the|his|her|their|each|every)\s+)?(?:words?|syllables?|vowels?|sentence|phrase)?\s*out\b", " slowly "),
    (r"\b(?:tumbl|spill|pour|rattl|fir)\w*\s+(?:(?:the|his|her|their)\s+)?(?:words?\s+)?(?:out|off)\b", " quickly "),
    (r"\bin quick succession\b|\brapid[- ]fire\b", " quickly "),
    (r"\bkeeping (?:his|her|their) voice down\b|\bkeeps? (?:his|her|their) voice down\b", " quietly "),
    # hedges
    (r"\ba (?:bit|little|touch|tad)\b", " abit "),
    (r"\b(?:kind|sort) of\b", " abit "),
    (r"\b(?:at times|at moments|in places|to some extent|to a degree)\b", " abit "),
    # intonation phrases
    (r"\b(?:goes|going|go|went|tilts|tilting|turns|turning|curls|curling|lifts|lifting|swings|swinging|comes|coming|"
     r"came|come|moves|moving|moved|arcs|arcing|arched|arches|steps|stepping|kicks|kicking|creeps|creeping|edges|edging)"
     r"\s+(?:back\s+)?up(?:ward|wards)?\b(?!\s+and\s+down)", " rises "),
    (r"\b(?:goes|going|go|went|trails|trailing|tails|tailing|drifts|drifting|tapers|tapering|comes|coming|came|come|"
     r"moves|moving|moved|steps|stepping|settles|settling|winds|winding)\s+(?:back\s+)?(?:down|off)(?:ward|wards)?\b", " falls "),
    (r"\b(?:sags?|sagging|sagged|slumps?|slumping|slumped|droops?|drooping|drooped|tumbles?|tumbling)\b", " falls "),
    (r"\brising[- ](?:and[- ])?falling\b|\brise[- ](?:and[- ])?fall\b", " rising falling "),
    (r"\bfalling[- ](?:and[- ])?rising\b|\bfall[- ](?:and[- ])?rise\b", " falling rising "),
    (r"\bup and down\b|\bups and downs\b|\bsing[- ]?song\b|\bwide (?:pitch )?(?:range|swings|excursions)\b|\blots of (?:pitch )?(?:movement|variation)\b|\bmuch (?:pitch )?variation\b", " expressive "),
    (r"\b(?:little|hardly any|almost no|barely any|very little|not much|minimal|no real|without much)\s+(?:melodic\s+|pitch\s+|tonal\s+)?(?:movement|variation|modulation|inflection|change|contour)\b", " flat "),
    (r"\b(?:stays?|staying|stayed|remains?|remaining|remained|keeps?|kept|held|holds?)\s+(?:fairly\s+|quite\s+|very\s+|mostly\s+|largely\s+)?level\b", " flat "),
]

NEGATORS = frozenset({"not", "neg", "no", "never", "neither", "nor", "without", "nothing", "none", "hardly", "barely", "nobody"})
HEDGES = frozenset({
    "slightly", "somewhat", "abit", "fairly", "relatively", "mildly", "marginally", "mostly", "partly", "almost",
    "nearly", "practically", "quite", "rather", "moderately", "reasonably", "comparatively", "perhaps", "possibly",
    "maybe", "probably", "seemingly", "occasionally", "particularly", "especially", "too", "overly", "a-bit",
    "subtly", "faintly", "modestly", "partially", "borderline",
})
# After one of these in a clause, statements are about emotions in general or hypothetical, not this clip.
GENERIC_MARKERS = frozenset({
    "would", "typically", "usually", "often", "tend", "tends", "tended", "generally", "commonly", "associated",
    "characteristic", "characteristically", "characterized", "characterised", "expect", "expected", "expects",
    "might", "could", "if", "unlike", "asif", "imagine", "normally", "stereotypically", "classic", "hallmark",
    "hallmarks", "whereas", "suggestive", "contrast",
})

# Words that say a level by themselves: word -> (aspect, level, hedged)
SELF: dict[str, tuple[str, str, bool]] = {}


def _self(aspect: str, level: str, words: str, hedged: bool = False) -> None:
    for w in words.split():
        SELF[w] = (aspect, level, hedged)


_self(PITCH, "high", "high-pitched higher-pitched shrill shrilly squeaky squeaking piercing falsetto")
_self(PITCH, "low", "low-pitched lower-pitched deep-voiced")
_self(ENERGY, "high", "high-energy high-volume")
_self(ENERGY, "low", "low-energy low-volume")
_self(SPEED, "high", "fast-paced quick-paced rapid-paced")
_self(SPEED, "low", "slow-paced")
_self(ENERGY, "high", "loud loudly louder loudest shout shouts shouting shouted yell yells yelling yelled scream screams "
      "screaming screamed bellow bellows bellowing bellowed forceful forcefully booming boom energetic energetically "
      "vigorous vigorously blaring thundering belt belts belting belted")
_self(ENERGY, "low", "quiet quietly quieter quietest soft softly softer softest hushed muted subdued faint "
      "mumble mumbles mumbling mumbled mutter mutters muttering muttered murmur murmurs murmuring murmured "
      "soft-spoken inaudible")
_self(SPEED, "high", "fast faster fastest quick quickly quicker rapid rapidly hurried hurriedly hurry hurries "
      "hurrying rush rushes rushing rushed brisk briskly swift swiftly racing races breakneck breathless")
_self(SPEED, "low", "slow slowly slower slowest slowed slowing unhurried leisurely sluggish sluggishly drag drags "
      "dragging dragged drawl drawls drawling drawled plodding")
# not "measured": real models echo "the measured cues" of a prompt; it is not a tempo
_self(SPEED, "low", "deliberate deliberately", hedged=True)

# Extreme forms: "he is not shouting" does not say he is not loud, so a negated extreme makes no claim.
EXTREME = frozenset(
    "shout shouts shouting shouted yell yells yelling yelled scream screams screaming screamed bellow bellows "
    "bellowing bellowed booming blaring thundering shrill shrilly squeaky squeaking piercing falsetto inaudible "
    "breakneck racing races plodding".split()
)

# Words that need a noun to say which aspect they are about: word -> (level, aspects they can apply to)
AMBIGUOUS: dict[str, tuple[str, frozenset]] = {}


def _amb(level: str, aspects, words: str) -> None:
    for w in words.split():
        AMBIGUOUS[w] = (level, frozenset(aspects))


_amb("high", ALL, "high higher highest elevated raised heightened increased")
_amb("low", ALL, "low lower lowest lowered reduced decreased diminished")
_amb("low", {PITCH}, "deep deeper")
_amb("high", {ENERGY}, "strong stronger considerable intense powerful great")
_amb("low", {ENERGY}, "weak weaker little")
_amb("normal", ALL, "moderate normal typical average ordinary usual regular medium midrange mid unremarkable standard baseline")
# not "steady" / "even": a steady pace is a constant one, at any rate ("a steady, rapid pace")
_amb("normal", {SPEED}, "conversational")

# Nouns that name an aspect: noun -> aspects
ASPECT_NOUNS: dict[str, frozenset] = {}
for _w in "pitch pitched register f0 frequency".split():
    ASPECT_NOUNS[_w] = frozenset({PITCH})
for _w in "energy volume loudness intensity amplitude projection force power".split():
    ASPECT_NOUNS[_w] = frozenset({ENERGY})
for _w in "rate pace pacing tempo speed cadence".split():
    ASPECT_NOUNS[_w] = frozenset({SPEED})
for _w in ("voice", "voices"):
    ASPECT_NOUNS[_w] = frozenset({PITCH, ENERGY})

# "her voice is weak" is about energy, "her voice is high" about pitch.
VOICE_PREFERENCE = ("pitch", "energy")

# Tokens allowed between an aspect noun and a later level word ("the pitch is clearly elevated").
LINKING = frozenset(
    "is are was were be been being stays stay stayed staying sits sit sat sitting remains remain remained "
    "sounds sound sounded seems seem seemed appears appear feels becomes became gets got keeps kept held holds "
    "also quite very fairly all both clearly noticeably markedly relatively somewhat slightly rather notably "
    "generally consistently mostly overall level levels at a an the in on within around near close to its his "
    "her their for him them range ranges extremely especially particularly really so too pretty noticeable "
    "distinctly decidedly comparatively largely roughly about approximately remarkably still own comfortable "
    "unusually abit almost nearly practically moderately reasonably perhaps possibly maybe probably seemingly "
    ", and or nor neither not neg no never hardly barely throughout set placed hovers hovering lies lying "
    "speaker's speaker’s this that here now definitely certainly obviously evidently fully somewhat "
    "tends stays kept comes come coming out fairly genuinely plainly rests resting settles settled "
    "sitting firmly squarely well slightly entirely completely exactly totally wholly altogether".split()
)
DETERMINERS = frozenset("the a an his her their its this that these those my your our".split())
# Tokens allowed between a level word and a following aspect noun ("low, quiet voice", "low in energy").
FORWARD_SKIP = frozenset(", and or in of vocal overall speaking very quite".split())

# Intonation
RISE = frozenset("rise rises rising rose risen climb climbs climbing climbed upward upwards uptick upturn "
                 "ascending ascends ascend lifts".split())
FALL = frozenset("fall falls falling fell fallen drop drops dropping dropped dip dips dipping dipped sink sinks "
                 "sinking sank downward downwards descend descends descending declining declines".split())
FLAT = frozenset("flat monotone monotonous monotonic".split())
EXPRESSIVE = frozenset("expressive expressively varied jumpy swooping swoops swings modulated".split())
CONTOUR_CONTEXT = frozenset("contour intonation melody melodic inflection inflexion pitch voice prosody prosodic "
                            "f0 question tone intonational".split())
END_WORDS = frozenset("end final finally close question terminal ending".split())

# Gender: words that refer to the speaker
MALE = frozenset("he his him himself".split())
FEMALE = frozenset("she her hers herself".split())
MALE_NOUNS = frozenset("man male boy gentleman guy".split())
FEMALE_NOUNS = frozenset("woman female girl lady".split())
# A pronoun counts as the speaker's when it comes right before one of these
SPEAKER_CONTEXT = frozenset(
    "voice voices pitch tone delivery speech speaking speaks speak says said asks asked replies replied responds "
    "sounds sounded words loudness volume energy rate pace tempo intonation melody stresses stressed emphasizes "
    "emphasises emphasized puts places placed leans hits is was seems appears keeps delivers delivered exclaims "
    "exclaimed shouts shouted whispers whispered yells yelled mutters mumbles sighs sighed calls called cries cried "
    "snaps snapped talks talked pleads pleaded demands demanded remarks remarked states stated declares declared "
    "complains complained urges urged orders ordered own emphasis stress speaker register articulation breath "
    "utterance line sentence tempo inflection".split()
)
SPEAKER_NOUN_CONTEXT = frozenset("speaker voice voices narrator talker adult says asks speaks".split())

# Age groups: (pattern, groups it fits), matched in order; a match consumes its text.
AGE_PATTERNS: list[tuple[str, frozenset]] = [
    (r"\b(?:little|small)\s+(?:boy|girl|child|kid)s?\b", frozenset({"Child"})),
    (r"\byoung\s+(?:boy|girl|child|kid)s?\b", frozenset({"Child", "Teenager"})),
    (r"\b(?:toddler|preschooler|child|children|kid|kids|child['’]s)\b", frozenset({"Child"})),
    (r"\b(?:teen|teens|teenage|teenaged|teenager|teenagers|adolescent|adolescents)\b", frozenset({"Teenager"})),
    (r"\byoung[- ]adults?\b", frozenset({"Young Adult"})),
    (r"\byoung\s+(?:man|woman|lady|guy|men|women)\b", frozenset({"Teenager", "Young Adult"})),
    (r"\bmiddle[- ]aged?\b", frozenset({"Middle-aged"})),
    (r"\bin (?:his|her|their) (?:twenties|20s)\b", frozenset({"Young Adult"})),
    (r"\bin (?:his|her|their) (?:thirties|30s)\b", frozenset({"Young Adult", "Middle-aged"})),
    (r"\bin (?:his|her|their) (?:forties|fifties|40s|50s)\b", frozenset({"Middle-aged"})),
    (r"\bin (?:his|her|their) (?:sixties|seventies|eighties|nineties|60s|70s|80s|90s)\b", frozenset({"Elderly"})),
    (r"\b(?:elderly|senior|seniors|aged|aging|ageing)\b|\bold\s+(?:man|woman|lady|gentleman|speaker|person|voice)\b",
     frozenset({"Elderly"})),
    (r"\bolder\s+(?:man|woman|lady|gentleman|speaker|person|adult|voice|male|female)\b", frozenset({"Middle-aged", "Elderly"})),
    (r"\bboy\b", frozenset({"Child", "Teenager"})),
    (r"\bgirl\b", frozenset({"Child", "Teenager", "Young Adult"})),
    (r"\byoung\b|\byouthful\b", frozenset({"Child", "Teenager", "Young Adult"})),
    (r"\badult\b", frozenset({"Young Adult", "Middle-aged", "Elderly"})),
]
# An age word describes the speaker when one of these is within three words of it.
AGE_CONTEXT = frozenset(
    "speaker speakers voice voices sounds sound sounding seems appears narrator man woman boy girl male female "
    "lady gentleman says asks speaks exclaims replies shouts calls cries whispers".split()
)
