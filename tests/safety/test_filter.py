"""The content filter of chats with minors (server/safety/filter.py, docs/content-filter.md)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from server.policy import filter as filter_module
from server.policy.filter import (
    ContentFilter,
    Match,
    WordListError,
    check_word,
    find_links,
    has_link,
    parse_word_list,
)

FILTER = ContentFilter()


def found(text: str, content: ContentFilter = FILTER) -> list[str]:
    """The matched parts of the original text."""
    return [text[match.start : match.end] for match in content.find(text)]


# -- the word list ------------------------------------------------------------------------

OBSCENE = [
    # хуй, хуё, хуя, хую, with prefixes and endings
    "хуй",
    "хуи",
    "хуя",
    "хую",
    "хуйня",
    "хуёвый",
    "хуево",
    "хуета",
    "хуйло",
    "нахуй",
    "похуй",
    "пахуй",
    "нихуя",
    "нехуй",
    "охуеть",
    "ахуеть",
    "охуенный",
    "захуярить",
    "отхуярить",
    # пизд*
    "пизда",
    "пиздец",
    "пизды",
    "спиздить",
    "распиздяй",
    "остопиздело",
    "пиздабол",
    "пёзды",
    # the еб/ёб family
    "ебать",
    "ёбнуть",
    "заебал",
    "выебать",
    "наебал",
    "уебок",
    "уёбок",
    "отъебись",
    "съебаться",
    "разъебать",
    "подъёб",
    "доебался",
    "поебень",
    "ебанутый",
    "ебучий",
    "еблан",
    "ебло",
    "заебись",
    "ёб",
    # бля
    "бля",
    "блядь",
    "блять",
    "блядский",
    "бляди",
    "выблядок",
    # the rest
    "мудак",
    "мудила",
    "мудозвон",
    "мудачьё",
    "пидор",
    "пидарас",
    "пидорас",
    "пидр",
    "гандон",
    "гондон",
    "залупа",
    "залупаться",
    "манда",
    "манды",
    "мандавошка",
    "шлюха",
    "шлюшка",
    "дрочить",
    "дрочила",
    "надрочил",
    "сука",
    "суки",
    "сучка",
    "сучара",
    "сукин",
    "хер",
    "нахер",
    "похер",
    "херня",
    "херовый",
    "херачить",
    "охеренный",
]

CLEAN = [
    # the еб of common words: roots stand at the word start or after a known prefix
    "хлеба",
    "небо",
    "себе",
    "тебе",
    "учебник",
    "потребовать",
    "колебаться",
    "колеблется",
    "гребля",
    "ребята",
    "требовать",
    "вебинар",
    "веб-сайт",
    "двоебрачие",
    # ху, хуй inside words
    "хулиган",
    "худой",
    "похудеть",
    "страхуй",
    "застрахуйте",
    "перестрахуйся",
    "сухую",
    "всухую",
    "хутор",
    # пид, пизд-like
    "скипидар",
    "пиджак",
    "спидран",
    "спидометр",
    "пицца",
    # бля only at the word start
    "употреблять",
    "оскорблять",
    "корабля",
    "сабля",
    "рубля",
    "грабли",
    "бляха",
    "бляха-муха",
    "бляшка",
    "вы,бляха",
    "злоупотребляют",
    # манда, сука, хер
    "команда",
    "мандарин",
    "мандат",
    "мандраж",
    "командировка",
    "сукно",
    "сук",
    "суку",
    "сучок",
    "сучковатый",
    "сученая",
    "херувим",
    "херес",
    "Херсон",
    # others
    "мудрый",
    "премудрость",
    "шлюз",
    "шлюпка",
    "гондола",
    "дрочёна",
    "залив",
    "манна",
    "ссора",
    "класс",
    "программа",
    "оттепель",
    "длинный",
    "ёжик",
    "объявление",
    "съесть",
    "подъезд",
    "разъехались",
    "отъезд",
    # initials, abbreviations and numbers are not a disguise
    "Е.Б. Иванова",
    "Иванова Е.Б.",
    "Е.Б.Лаптева",
    "т.е.бывает",
    "т.е. без разницы",
    "80-е,бабушка",
    "в 1-х,блин",
    "и-обувь",
    # English, including through transliteration
    "her",
    "here",
    "hero",
    "hue",
    "huge",
    "ebay",
    "ebook",
    "ebony",
    "ebb",
    "web",
    "debt",
    "Sebastian",
    "eyeball",
    "jobless",
    "suki",
    "pizza",
    "blue",
    "xylophone",
    # self-censored words are already masked: a known limit
    "х*й",
    "п***а",
    "б**",
]


@pytest.mark.parametrize("word", OBSCENE)
def test_listed_words_match_whole(word: str) -> None:
    assert found(word) == [word]
    assert found(f"ну ты {word}!") == [word]
    assert FILTER.blocks(word.upper())


@pytest.mark.parametrize("text", CLEAN)
def test_clean_words_pass(text: str) -> None:
    assert FILTER.find(text) == []
    assert not FILTER.blocks(text)
    assert FILTER.mask(text) == text


def test_a_sentence_of_clean_words_passes() -> None:
    text = (
        "Ребята, завтра на уроке гребли себе и тебе хлеба возьмите; учебник по химии! "
        "Команда корабля употребляет мандарины, а сабля стоит сто рублей. "
        "Кто-нибудь сделал д/з? т.е. упр. 5.3, стр. 12-15. Застрахуйте скипидар в 9:30. "
        "а я в школу, и у меня всё ок"
    )
    assert FILTER.find(text) == []


DISGUISED = [
    # case, ё
    ("ХУЙ", "ХУЙ"),
    ("СуКа", "СуКа"),
    ("ЁБНУТЬ", "ЁБНУТЬ"),
    # Latin look-alikes, digits and signs mixed in or throughout
    ("xуй", "xуй"),
    ("xyй", "xyй"),
    ("пи3да", "пи3да"),
    ("пи3дец", "пи3дец"),
    ("6ля", "6ля"),
    ("eбaть", "eбaть"),
    ("cyka", "cyka"),
    ("$ука", "$ука"),
    ("xep", "xep"),
    ("муд@к", "муд@к"),
    ("3алупа", "3алупа"),
    # transliteration of wholly Latin words
    ("blyat", "blyat"),
    ("blyad", "blyad"),
    ("huy", "huy"),
    ("hui", "hui"),
    ("pizda", "pizda"),
    ("pizdec", "pizdec"),
    ("ebat", "ebat"),
    ("suka", "suka"),
    ("nahuy", "nahuy"),
    ("pohuy", "pohuy"),
    ("otyebis", "otyebis"),
    ("mudak", "mudak"),
    ("BLYAT", "BLYAT"),
    # punctuation or spaces inside the word
    ("х.у.й", "х.у.й"),
    ("п-и-з-д-а", "п-и-з-д-а"),
    ("б_л_я", "б_л_я"),
    ("х у й", "х у й"),
    ("x у й", "x у й"),
    ("x, у, й", "x, у, й"),
    ("я х у й", "х у й"),
    ("пиз.да", "пиз.да"),
    ("ху*й", "ху*й"),
    ("е...бать", "е...бать"),
    ("ну ты и бл.я", "бл.я"),
    ("с.у.к.а", "с.у.к.а"),
    ("п.и.з.д.е.ц", "п.и.з.д.е.ц"),
    ("х\u200bу\u200bй", "х\u200bу\u200bй"),  # zero-width spaces
    ("б😀л😀я", "б😀л😀я"),
    ("h.u.y", "h.u.y"),
    ("b.l.y.a.t", "b.l.y.a.t"),
    ("с.у.к.а.в", "с.у.к.а"),
    ("хуй....ладно", "хуй"),
    ("п!зда", "п!зда"),  # ! between letters is и
    # repeated letters
    ("хууууй", "хууууй"),
    ("бляяяя", "бляяяя"),
    ("пиииздец", "пиииздец"),
    ("ссссука", "ссссука"),
    ("ебанный", "ебанный"),
    # several at once
    ("Х.у.У.у.Й", "Х.у.У.у.Й"),
    ("п1зда", "п1зда"),
]


@pytest.mark.parametrize(("text", "part"), DISGUISED)
def test_disguises_are_seen_through(text: str, part: str | None) -> None:
    assert found(text) == ([] if part is None else [part])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Ну х.у.й", "Ну *****"),
        ("сам дурак, бля", "сам дурак, ***"),
        ("ну,пиз.да,ладно", "ну,******,ладно"),
        ("Блин, нахуй это всё.", "Блин, ***** это всё."),
        ("x у й тебе", "***** тебе"),
        ("бля бля бля", "*** *** ***"),
        ("(сука)", "(****)"),
        ("вот такой пиздец!!!", "вот такой ******!!!"),
        ("a\nх\nу\nй", "a\nх\nу\nй"),  # letters on lines of their own are not joined
        ("", ""),
    ],
)
def test_masking_replaces_exactly_the_matched_words(text: str, masked: str) -> None:
    assert FILTER.mask(text) == masked
    assert len(FILTER.mask(text)) == len(text)


def test_matches_point_into_the_original_text() -> None:
    text = "Привет!  Ты — ХУ.Й,  а он 6ля и blyat… ок"
    matches = FILTER.find(text)
    assert [text[m.start : m.end] for m in matches] == ["ХУ.Й", "6ля", "blyat"]
    assert [m.word for m in matches] == ["хуи", "бля", "блят"]
    assert all(isinstance(m, Match) for m in matches)
    starts = [m.start for m in matches]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in itertools.pairwise(matches))


def test_results_do_not_depend_on_what_the_filter_saw_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Tiny caches: they are emptied again and again while the same texts are checked.
    monkeypatch.setattr(filter_module, "_TOKEN_LIMIT", 3)
    monkeypatch.setattr(filter_module, "_CACHE_LIMIT", 2)
    texts = {
        "ну х.у.й": ["х.у.й"],
        "бля бля": ["бля", "бля"],
        "привет, как дела": [],
        "сам дурак": ["дурак"],
        "кукарямба шмыгозавр": [],
        "blyat хрюкотавр": ["blyat"],
        "зюзюкалка": [],
    }
    content = ContentFilter(["дурак"])
    for _ in range(3):
        assert {text: found(text, content) for text in texts} == texts


def test_blocks_is_whether_anything_is_found() -> None:
    assert FILTER.blocks("ну и хуйня")
    assert not FILTER.blocks("ну и фигня")
    assert not FILTER.blocks("")


# -- a school's words -----------------------------------------------------------------


def test_extra_words_match_whole_normalized_words() -> None:
    content = ContentFilter(["дурак"])
    assert found("ДУРАК", content) == ["ДУРАК"]
    assert found("дypaк", content) == ["дypaк"]  # Latin у, а
    assert found("дуурак", content) == ["дуурак"]
    assert found("д.у.р.а.к", content) == ["д.у.р.а.к"]
    assert found("дураки", content) == []
    assert found("дурачок", content) == []
    assert found("сам дурак, бля", content) == ["дурак", "бля"]
    assert found("дурак", FILTER) == []


def test_a_star_makes_an_extra_word_a_stem() -> None:
    content = ContentFilter(["дурак*", "  Лох  "])
    assert found("дураки и дурак", content) == ["дураки", "дурак"]
    assert found("дурачок", content) == []
    assert found("лох лохи", content) == ["лох"]


def test_extra_words_in_latin_letters_or_with_punctuation() -> None:
    content = ContentFilter(["lol", "кринж", "ё-моё"])
    assert found("ё-моё, ёмоё", content) == ["ё-моё", "ёмоё"]
    assert found("lol лол LOOOL", content) == ["lol", "лол", "LOOOL"]
    assert found("krinzh", content) == ["krinzh"]


def test_unusable_extra_words_are_skipped() -> None:
    content = ContentFilter(["", "я", "сам дурак", "д*рак", "💩", "тупица"])
    assert found("я сам дурак 💩 тупица", content) == ["тупица"]


@pytest.mark.parametrize("entry", ["", "  ", "я", "*", "сам дурак", "д*рак", "💩"])
def test_check_word_tells_why_a_word_cannot_be_used(entry: str) -> None:
    with pytest.raises(ValueError, match="'"):
        check_word(entry)


@pytest.mark.parametrize("entry", ["дурак", "дурак*", "noob", "ё-моё", "Лох"])
def test_check_word_accepts_words(entry: str) -> None:
    check_word(entry)


# -- the word list file -------------------------------------------------------------------


def test_the_shipped_list_documents_its_format() -> None:
    header = (Path(filter_module.__file__).parent / "data" / filter_module.WORD_LIST).read_text(
        encoding="utf-8"
    )
    for words in ("FORMAT", "prefix", "root", "word", "allow", "OPTIONS", "hard", "translit"):
        assert words in header


def test_the_word_list_format() -> None:
    words = parse_word_list(
        """
        # a comment
        prefix на по с  # prefixes
        root ху[иеяю] prefixes=any translit=no
        root еб prefixes=any hard
        word сук(а|и)
        allow хуиня.*
        """
    )
    for word, listed in [
        ("нахуи", True),
        ("хуиня", False),  # allowed
        ("съеб", True),
        ("себе", False),  # с needs ъ before еб
        ("сука", True),
        ("сукно", False),
    ]:
        assert words.plain(word.encode("cp1251"))[1] is listed, word
    assert words.translit(b"hui") == ("хуи".encode("cp1251"), False)  # translit=no
    assert words.translit(b"syeb")[1]
    assert parse_word_list("word сука").plain("сука".encode("cp1251"))[1]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("root", "without a pattern"),
        ("stem хуи", "unknown kind"),
        ("root хуй", "и for й"),
        ("root Хуи", "lower-case"),
        ("root ебанные", "repeated letter"),
        ("root хуи prefixes=all", "bad value"),
        ("root хуи hard", "'hard' needs 'prefixes'"),
        ("root хуи anywhere prefixes=any", "exclude each other"),
        ("root хуи translit=no translit=no", "repeated option"),
        ("root хуи prefixes=any", "has none"),
        ("root (хуи", "хуи"),
        ("allow хуи translit=no", "no options"),
        ("prefix на-", "bad prefix"),
    ],
)
def test_the_word_list_refuses_mistakes(text: str, error: str) -> None:
    with pytest.raises(WordListError, match=r"^test:1: .*" + error.replace("(", r"\(")):
        parse_word_list(text, "test")


# -- properties -------------------------------------------------------------------------

PUNCTUATION = ".,-_*!?'\"/\\|~`^:;()[]{}<>«»—…"
LISTED = [word for word in OBSCENE if len(word) >= 3]

texts = st.one_of(
    st.text(),
    st.lists(
        st.one_of(
            st.sampled_from([*OBSCENE, *CLEAN, "дурак", "blyat", "х.у.й", "т.е.", "а", "я"]),
            st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяxyeaco036@$ ", max_size=8),
            st.sampled_from([*PUNCTUATION, " ", "  ", "\n", "\u200b"]),
        ),
        max_size=30,
    ).map("".join),
)


# Deterministic (the same examples on every run), and no deadline on a busy machine.
PROPERTY = settings(derandomize=True, deadline=None, max_examples=400)


class _AlwaysSearched(ContentFilter):
    """The filter without its quick answer: every text searched token by token."""

    __slots__ = ()

    def _clean(self, cased: bytes) -> bool:
        return False


@PROPERTY
@given(texts)
@example("ххххуууууйй")
@example("х у й, пиз.да")
@example("ё-моё, е.б.а.т.ь")
@example("дууурак")
@example("тупицы")
@example("ну ты blyat")
def test_the_quick_answer_changes_nothing(text: str) -> None:
    # ContentFilter._clean lets most texts skip the token-by-token search: it
    # must never skip a text in which that search finds something.
    words = ["дурак", "тупица*"]
    assert ContentFilter(words).find(text) == _AlwaysSearched(words).find(text)


def test_the_quick_answer_is_taken_for_a_clean_text() -> None:
    # The other side: an ordinary message is answered without the search.
    content = ContentFilter()
    assert content._clean(b"\xc4\xee\xec\xe0\xf8\xed\xe5\xe5 12.")  # "Домашнее 12."
    assert not content._clean("ну ты х у й".encode("cp1251"))
    assert not content._clean(b"hello")  # Latin letters: transliterated words are searched


@PROPERTY
@given(texts)
@example("х.у.й.х.у.й")
@example("е.б.а.т.ь, х у й")
@example("ну,пиз.да,ну,пиз.да")
def test_masking_keeps_the_length_and_leaves_nothing_to_find(text: str) -> None:
    content = ContentFilter(["дурак", "тупица*"])
    masked = content.mask(text)
    assert len(masked) == len(text)
    assert content.find(masked) == []
    covered: set[int] = set()
    for match in content.find(text):
        assert 0 <= match.start < match.end <= len(text)
        assert masked[match.start : match.end] == "*" * (match.end - match.start)
        covered.update(range(match.start, match.end))
    assert all(masked[i] == text[i] for i in range(len(text)) if i not in covered)


@PROPERTY
@given(
    st.sampled_from(LISTED),
    st.integers(min_value=1),
    st.sampled_from(list(PUNCTUATION)),
    st.sampled_from(["", "ну ", "Ты "]),
)
def test_punctuation_inside_a_listed_word_still_matches(
    word: str, where: int, mark: str, before: str
) -> None:
    cut = 1 + where % (len(word) - 1)
    disguised = word[:cut] + mark + word[cut:]
    text = before + disguised + " ладно"
    matches = FILTER.find(text)
    start, end = len(before), len(before) + len(disguised)
    assert any(m.start < end and start < m.end for m in matches), (disguised, matches)
    assert all(m.end <= end for m in matches), (disguised, matches)  # "ладно" is left alone


# -- links ------------------------------------------------------------------------------

LINKS = [
    ("https://resh.edu.ru/subject/lesson/7", "https://resh.edu.ru/subject/lesson/7"),
    ("смотри http://example.com.", "http://example.com"),
    ("HTTPS://Example.com/a?b=1#c", "HTTPS://Example.com/a?b=1#c"),
    ("заходи на www.site", "www.site"),
    ("t.me/chatname", "t.me/chatname"),
    ("пиши в t.me/+abc123!", "t.me/+abc123"),
    ("vk.com/id1", "vk.com/id1"),
    ("(vk.com/club1)", "vk.com/club1"),
    ("пример.рф", "пример.рф"),
    ("школа.рус", "школа.рус"),
    ("Example.ORG", "Example.ORG"),
    ("сайт mysite.online:8080/путь", "mysite.online:8080/путь"),
    ("sub.domain.co.uk", "sub.domain.co.uk"),
    ("bit.ly/3xYz", "bit.ly/3xYz"),
    ("discord.gg/abc", "discord.gg/abc"),
    ("пиши vasya.petrov@mail.ru", "vasya.petrov@mail.ru"),
    ("почта: иван@почта.рф!", "иван@почта.рф"),
    ("a@b.school", "a@b.school"),
    ("http://x.ru/wiki/A_(b)", "http://x.ru/wiki/A_(b)"),
]
NOT_LINKS = [
    "т.е.",
    "и т.д. и т.п.",
    "5.3",
    "версия 1.2.3",
    "a.b",
    "привет.как дела",
    "отчет.docx",
    "файл main.py",
    "e.g.",
    "P.S. пока",
    "г.Москва",
    "vk.comment",
    "в Москву.Me too",
    "@vasya",
    "2+2=4",
    "http://",
    "просто текст без ссылок",
]


@pytest.mark.parametrize(("text", "link"), LINKS)
def test_links_are_found(text: str, link: str) -> None:
    assert [text[start:end] for start, end in find_links(text)] == [link]
    assert has_link(text)


@pytest.mark.parametrize("text", NOT_LINKS)
def test_other_dotted_things_are_not_links(text: str) -> None:
    assert find_links(text) == []
    assert not has_link(text)


def test_several_links_in_order() -> None:
    text = "раз vk.com, два https://ya.ru/x и три a@b.ru."
    assert [text[start:end] for start, end in find_links(text)] == [
        "vk.com",
        "https://ya.ru/x",
        "a@b.ru",
    ]
