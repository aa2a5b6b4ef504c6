"""The premise check, the answer check and the English-through-Polish path, with fakes."""
import pytest

from rag import premise, verify
from rag.support import numbers
from rag.terms import TermIndex, key_terms, missing
from rag.types import Chunk, Passage

from .test_pipeline import A1, Q_PL

SENTENCE = "Rosja planuje zatrudnić 12 tys. północnokoreańskich pracowników w Tatarstanie."


def _passage(text, rank=1):
    return Passage(rank, Chunk(f"a#{rank}", "a", 0, len(text), text), 1.0, text=text)


class AcceptAll:
    threshold = 0.5

    def score(self, sentence, evidence, question=""):
        return 0.9


def test_terms_meet_across_inflection_and_languages():
    index = TermIndex("W czerwcu Siergiej Szojgu spotkał się z Kim Dzong Unem w Pjongjangu. KRLD wysłała 12 tys. żołnierzy.")
    for text in ("Szojgu met Kim Jong Un in Pyongyang in June.", "Kimem i Szojgu rozmawiali w czerwcu.",
                 "North Korea sent 12,000 soldiers.", "Korea Północna wysłała 12 000 żołnierzy."):
        assert missing(key_terms(text), index) == [], text
    assert missing(key_terms("Szojgu met Putin in Moscow in July."), index) == ["Putin", "Moscow", "July"]
    known = {"korea", "szojgu"}
    assert missing(key_terms("Korea Południowa wysłała 15 tys. żołnierzy.", initial=known), index) == \
        ["Korea Południowa", "15 tys."]
    assert key_terms("Name the two presidents.") == []
    assert [t.text for t in key_terms("Odpowiedź: Według HUR, Szojgu…", initial=known | {"odpowiedz"})] == \
        ["Odpowiedź", "Szojgu"]


def test_a_label_glued_to_letters_or_a_citation_marker_is_not_a_number():
    assert [t.kind for t in key_terms("Odpowiedź (pytanie Q16) dla Szojgu [2].")] == ["name"]


def test_premise_names_what_no_passage_holds():
    passages = [_passage(SENTENCE)]
    assert premise.gaps("Dlaczego Węgry wysłały 50 tys. pracowników do Tatarstanu?", None, passages) == \
        ["Węgry", "50 tys."]
    assert premise.gaps("Ilu pracowników z Korei Północnej Rosja zatrudni w Tatarstanie?", None, passages) == []
    # an English name the word map misses is trusted when the translation's terms are all there
    assert premise.gaps("How many workers will Zvyozdochka hire?", "Ilu pracowników zatrudni Tatarstan?", passages) == []
    assert "Finland" in premise.refusal(["Finland"], "en") and "Finlandia" in premise.refusal(["Finlandia"], "pl")


def test_premise_without_capitals_a_nationality_or_an_acronym_is_checked_too():
    passages = [_passage(SENTENCE + " Sekretarz Rady Bezpieczeństwa Szojgu odwiedził Pjongjang. "
                         "Według Ministerstwa Obrony Rosji saperzy z KRLD pracują w obwodzie kurskim.")]
    # a country named by its lower-case adjective, an organisation by its acronym, neither in the articles
    assert premise.gaps("Dlaczego turecki wywiad ustalił, że Rosja zatrudni 12 tys. pracowników?", None,
                        passages) == ["turecki"]
    assert premise.gaps("Co postanowiła Rada Bezpieczeństwa ONZ w sprawie saperów?", None, passages) == ["ONZ"]
    assert premise.gaps("What did the IAEA say about the workers in Tatarstan?", None, passages) == ["IAEA"]
    # ... but they pass when the passages hold them, as written or expanded
    for question in ("Ilu północnokoreańskich pracowników zatrudni rosyjski przemysł w Tatarstanie?",
                     "Gdzie według rosyjskiego MON pracują saperzy z KRLD?",
                     "Where do the DPRK's deminers work, according to Russia?",
                     "Which US broadcaster reported on the workers in Tatarstan?",       # "US" describes, it is no premise
                     "Ilu pracowników zatrudni Tatarstan? (pytanie Q19)"):               # a label, not an acronym
        assert premise.gaps(question, None, passages) == [], question
    assert premise.gaps("Dlaczego Rosja zatrudni pracowników ONZ?", None,
                        [_passage("Organizacja Narodów Zjednoczonych oceniła plany Rosji.")]) == []


def test_answer_sentence_naming_what_its_passage_does_not_is_dropped():
    passages = [_passage(SENTENCE), _passage("Korea Południowa rozważa dostawy broni dla Ukrainy.", 2)]
    checked = verify.check("Rosja zatrudni 12 tys. pracowników w Tatarstanie [1]. "
                           "Korea Południowa wysłała żołnierzy do Kurska [1].", passages, AcceptAll())
    assert checked.text == "Rosja zatrudni 12 tys. pracowników w Tatarstanie [1]."
    assert checked.kept == 1 and "Korea Południowa" in checked.dropped[0] or "Kurska" in checked.dropped[0]


def test_a_sentence_is_moved_to_the_passage_that_states_it():
    passages = [_passage("Szojgu odwiedził Pjongjang."), _passage(SENTENCE, 2)]
    checked = verify.check("Rosja zatrudni 12 tys. pracowników [1].", passages, AcceptAll())
    assert checked.text == "Rosja zatrudni 12 tys. pracowników [2]." and checked.citations[0].marker == 2


def test_one_number_given_for_both_parts_of_a_question_is_dropped_where_the_passage_says_it_once():
    passage = _passage(SENTENCE + " Na początku października pracowało tam już ok. 20 000 Koreańczyków.")
    both = "Rosja chce zatrudnić 20 000 pracowników w Tatarstanie, a pracowało tam już 20 000 Koreańczyków [1]."
    checked = verify.check(both, [passage], AcceptAll())
    assert checked.refused and "20 000 twice" in checked.dropped[0]
    right = "Rosja chce zatrudnić 12 tys. pracowników w Tatarstanie, a pracowało tam już 20 000 Koreańczyków [1]."
    assert verify.check(right, [passage], AcceptAll()).kept == 1


def test_nothing_left_is_a_refusal():
    checked = verify.check("Finlandia wysłała saperów [1].", [_passage(SENTENCE)], AcceptAll(),
                           question="Dlaczego Finlandia wysłała saperów?")
    assert checked.refused and checked.dropped


def test_false_premise_is_refused_naming_the_missing_term(make_pipeline):
    p = make_pipeline(["Finlandia wysłała saperów do Tatarstanu [1]."])
    answer = p.ask("Dlaczego Finlandia wysłała pracowników do Tatarstanu?")
    assert answer.refused and answer.missing == ["Finlandia"] and "Finlandia" in answer.answer
    assert not p.generator.prompts, "no answer is generated for a false premise"


@pytest.mark.parametrize("translate_query", [True, False])
def test_english_question_is_answered_in_polish_checked_then_translated(make_pipeline, translate_query):
    # with dictionary words for retrieval (translate_query off), the model still translates the
    # question for the Polish answer: a list of Polish words is no question to answer
    def reply(messages):
        system = messages[0]["content"]
        if system.startswith("Translate the user's question"):
            return "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?"
        if system.startswith("Translate the user's Polish"):
            return "Russia wants to hire 12,000 North Korean workers in Tatarstan."      # marker lost
        return "Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."

    p = make_pipeline(reply_fn=reply, translate_query=translate_query, english_answers="via-polish")
    events = list(p.stream("How many North Korean workers does Russia want to hire in Tatarstan?"))
    answer = events[-1].answer
    marker = answer.citations[0].marker
    assert not answer.refused and answer.answer == f"Russia wants to hire 12,000 North Korean workers in Tatarstan [{marker}]."
    assert answer.polish.startswith("Rosja chce zatrudnić 12 tys.") and answer.citations[0].article_id == A1
    shown = "".join(e.text for e in events if e.kind == "token")
    assert shown.startswith("Russia wants"), "only the English translation is streamed"
    answer_prompt = next(m for m in p.generator.prompts if m[0]["content"].startswith("You answer"))
    assert "Answer in Polish." in answer_prompt[1]["content"]
    assert "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?" in answer_prompt[1]["content"]


def test_english_direct_mode_answers_in_english(settings):
    from rag.config import Settings
    from rag.pipeline import Pipeline

    from .fakes import ScriptedGenerator, WordOverlapEmbedder

    s = Settings(**{**settings.__dict__, "english_answers": "direct"})
    p = Pipeline(s, embedder=WordOverlapEmbedder(), judge=AcceptAll(),
                 generator=ScriptedGenerator(["Russia wants to hire 12,000 workers in Tatarstan [1]."]))
    answer = p.ask("How many workers does Russia want to hire in Tatarstan?")
    assert not answer.refused and answer.polish is None and "12,000" in answer.answer


def test_polish_questions_are_unchanged_by_the_english_path(make_pipeline):
    p = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."])
    assert "12 tys." in p.ask(Q_PL).answer and len(p.generator.prompts) == 1


def test_the_models_no_as_a_judge_refuses_when_switched_on(make_pipeline):
    from rag.prompt import JUDGE_QUESTION

    def reply(messages):
        if messages[-1]["content"] == JUDGE_QUESTION:
            assert messages[-2]["role"] == "assistant"          # the answer it judges, right before
            return "No"
        return "Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."

    assert not make_pipeline(reply_fn=reply).ask(Q_PL).refused          # off by default
    p = make_pipeline(reply_fn=reply, llm_judge=True)
    answer = p.ask(Q_PL)
    assert answer.refused and "judged its answer unsupported" in answer.dropped[-1]


def test_english_answer_terms_the_question_does_not_name_must_be_in_the_passage():
    passages = [_passage(SENTENCE)]
    checked = verify.check("Russia will hire 12,000 workers in Tatarstan [1]. The Russian Ministry of Defence "
                           "said so in November [1].", passages, AcceptAll(),
                           question="How many workers will Russia hire in Tatarstan?")
    assert checked.text == "Russia will hire 12,000 workers in Tatarstan [1]."
    assert "November" in checked.dropped[0]


def test_names_restated_from_the_question_pass_but_its_numbers_and_months_are_checked():
    # the cited passage says "Korea Północna" and "Rosja"; the question and the answer say Pjongjang
    # and Moskwa, which another passage of the prompt holds
    passages = [_passage("Korea Północna od września 2023 r. dostarcza Rosji duże ilości amunicji."),
                _passage("Szojgu przyleciał z Moskwy do Pjongjangu.", rank=2)]
    question = "Od kiedy Pjongjang przekazuje Moskwie duże ilości amunicji?"
    checked = verify.check("Pjongjang przekazuje Moskwie amunicję od września 2023 roku [1].", passages,
                           AcceptAll(), question=question)
    assert not checked.refused and checked.kept == 1 and checked.citations[0].marker == 1
    assert verify.check("Pjongjang przekazuje Moskwie amunicję od 2023 roku [1].", passages[:1], AcceptAll(),
                        question=question).refused        # a name no passage holds is still missing
    # a name the question does not give is still checked, and so are numbers and months it does give
    assert verify.check("Amunicję Moskwie przekazują od 2023 roku Chiny [1].", passages, AcceptAll(),
                        question=question).refused
    # a two-word name whose first word the cited passage holds, but not the rest, is another entity
    korea = [_passage("Korea Północna wysłała 3 tys. żołnierzy do obwodu kurskiego."),
             _passage("Korea Południowa wysłała 5 dyplomatów do Kijowa.", rank=2)]
    question = "Ilu żołnierzy Korea Południowa wysłała do obwodu kurskiego?"
    wrong = verify.check("Korea Południowa wysłała 3 tys. żołnierzy do obwodu kurskiego [1].", korea, AcceptAll(),
                         question=question)
    assert wrong.refused and "Korea Południowa" in wrong.dropped[0]
    # ... and so is one glued to the question's name before it, as one run: "Rosji Korea Południowa"
    tanks = [_passage("Korea Północna miała dostarczyć czołgi M2010 i transportery BTR-80."),
             _passage("Rosja i Korea Południowa nie utrzymują kontaktów wojskowych.", rank=2)]
    glued = verify.check("Rosji Korea Południowa miała dostarczyć transportery BTR-80 [1].", tanks, AcceptAll(),
                         question="Jakie transportery, oprócz czołgów M2010, miała dostarczyć Rosji Korea Południowa?")
    assert glued.refused and "Rosji Korea Południowa" in glued.dropped[0]
    assert not verify.check(      # the last word alone ("Szojgu" of "Siergiej Szojgu") is the same person
        "Siergiej Szojgu odwiedził Pjongjang [1].", [_passage("Szojgu odwiedził Pjongjang."),
                                                     _passage("Siergiej Szojgu jest sekretarzem.", rank=2)],
        AcceptAll(), question="Kiedy Siergiej Szojgu odwiedził Pjongjang?").refused
    assert not verify.check("Pjongjang wysłał 3 tys. żołnierzy [1].", korea + [_passage("Władze w Pjongjangu.", 3)],
                            AcceptAll(), question="Ilu żołnierzy wysłał Pjongjang?").refused
    # a word the question has only in lower case ("kurskiego") is no name it names
    kursk = verify.check("Korea Północna wysłała 3 tys. żołnierzy do Rosji, by walczyli w Kursku [1].",
                         [_passage("Korea Północna wysłała 3 tys. żołnierzy do Rosji."),
                          _passage("Walki w Kursku trwają.", rank=2)], AcceptAll(),
                         question="Ilu żołnierzy Korea Północna wysłała do obwodu kurskiego?")
    assert kursk.refused and "Kursku" in kursk.dropped[0]
    wrong_year = verify.check("Pjongjang przekazuje Moskwie amunicję od 2022 roku [1].", passages, AcceptAll(),
                              question="Czy Pjongjang przekazuje Moskwie amunicję od 2022 roku?")
    assert wrong_year.refused and "2022" in wrong_year.dropped[0]


def test_a_country_restated_from_the_question_fails_where_the_cited_sentence_gives_the_name_another():
    # "…talks with the Iranian company Jihyang?": the firm is North Korean; "irańskich dronów" elsewhere
    passages = [_passage("W MSZ Rosji spotkano się z przedstawicielami północnokoreańskiej firmy Jihyang."),
                _passage("Rosja pomaga w produkcji irańskich dronów Shahed.", rank=2)]
    question = "Why did Russia hold talks with the Iranian company Jihyang?"
    wrong = verify.check("Russia held talks with the Iranian company Jihyang about workers [1].", passages[:1],
                         AcceptAll(), question=question, retrieved=passages)
    assert wrong.refused and "Iranian" in wrong.dropped[0]
    assert not verify.check("Russia held talks with the North Korean company Jihyang [1].", passages[:1], AcceptAll(),
                            question="Why did Russia hold talks with the North Korean company Jihyang?",
                            retrieved=passages).refused


def test_a_capital_restated_from_the_question_fails_where_the_cited_sentence_names_another():
    # "When did Kim fly to Moscow to sign the treaty?": the treaty was signed in Pyongyang, in June
    passages = [_passage("Traktat podpisali Kim Dzong Un i Władimir Putin w Pjongjangu w czerwcu."),
                _passage("Moskwa i Pjongjang zacieśniają współpracę.", rank=2)]
    question = "When did Kim Jong Un fly to Moscow to sign the treaty with Putin?"
    checked = verify.check("Kim Jong Un flew to Moscow in June [1].", passages, AcceptAll(), question=question)
    assert checked.refused and "Moscow" in checked.dropped[0]
    # a capital the cited sentence does not contradict is still the question's own, restated
    assert not verify.check("Kim Jong Un signed the treaty in Moscow in June [1].",
                            [_passage("Traktat podpisali Kim Dzong Un i Władimir Putin w czerwcu."), passages[1]],
                            AcceptAll(), question=question).refused


def test_names_that_occur_only_in_different_articles_are_a_premise_refused_before_answering(make_pipeline):
    p = make_pipeline(["Zełenski spotkał się z Kim Dzong Unem w Pjongjangu [1]."])
    answer = p.ask("Dlaczego Zełenski spotkał się osobiście z Kim Dzong Unem?")
    assert answer.refused and answer.missing == ["Zełenski", "Kim Dzong Unem"]
    assert answer.answer.startswith("Artykuły nie wspominają o: Zełenski razem z: Kim Dzong Unem")
    assert p.generator.prompts == []                  # refused before the model was asked
    # names one article holds together pass: Szojgu and Kim Dzong Un meet in the same article
    assert not make_pipeline(["Szojgu spotkał się z Kim Dzong Unem w Pjongjangu [1]."]).ask(
        "Gdzie Szojgu spotkał się z Kim Dzong Unem?").missing


def test_an_english_weekday_meets_the_polish_one():
    from rag.terms import TermIndex, key_terms, missing

    sentence = "According to Yonhap, the president announced a delegation to Ukraine on Monday."
    assert missing(key_terms(sentence), TermIndex("Według agencji Yonhap, w poniedziałek prezydent zapowiedział, "
                                                   "że delegacja odwiedzi Ukrainę.")) == []
    assert missing(key_terms(sentence), TermIndex("Według agencji Yonhap, we wtorek prezydent zapowiedział wizytę "
                                                   "na Ukrainie.")) == ["Monday"]


def test_a_date_more_precise_than_its_passage_is_cut_back_not_dropped():
    passages = [_passage("Wołodin oświadczył we wrześniu, że Rosjanie nigdy nie zapomną pomocy."),
                _passage("W październiku 2024 roku Korea Północna wysłała żołnierzy.", 2)]
    checked = verify.check("Volodin said it in September 2024 [1]. Troops went on October 1st [2].", passages,
                           AcceptAll())
    assert checked.text == "Volodin said it in September [1]. Troops went in October [2]."
    assert not checked.dropped and {c.marker for c in checked.citations} == {1, 2}
    # a month the passage does not hold is still a reason to drop the sentence
    assert verify.check("Volodin said it in May 2024 [1].", passages[:1], AcceptAll()).refused


class NumbersJudge:
    """Like the offline judge, no support for a number the evidence it is given lacks."""
    threshold = 0.5

    def score(self, sentence, evidence, question=""):
        return 0.9 if numbers(sentence) <= numbers(evidence) else 0.0


def test_english_names_meet_their_polish_words_and_amounts_their_glosses():
    # "od 10 do 12 tysięcy" holds 10,000 (as the English prompt glosses it), "trzech tysięcy" 3,000
    passages = [_passage("Moskwa jest wdzięczna za pomoc żołnierzy Koreańskiej Armii Ludowej."),
                _passage("Korea Północna wysłała od 10 do 12 tysięcy żołnierzy, a potem do trzech tysięcy osób.", 2)]
    answer = ("Moscow is grateful for the help of the Korean People's Army [1]. North Korea sent 10,000 to 12,000 "
              "soldiers, then up to 3,000 people [2].")
    checked = verify.check(answer, passages, NumbersJudge())
    assert not checked.dropped and checked.kept == 2
    # another force, or a number no reading of the passage gives, is still dropped
    checked = verify.check("Moscow thanked the Korean Navy [1]. North Korea sent 11,000 soldiers [2].", passages,
                           NumbersJudge())
    assert checked.refused and len(checked.dropped) == 2


def test_a_title_the_passage_lacks_is_cut_from_the_name_it_adorns_and_the_claim_kept():
    passages = [_passage("W czerwcu sekretarz Rady Bezpieczeństwa Siergiej Szojgu poinformował, że Kim Dzong Un "
                         "zgodził się wysłać dodatkowe 6000 osób.")]
    checked = verify.check("Siergiej Szojgu, the Secretary General of the Defense Ministry, announced in June that "
                           "Kim Jong Un agreed to send 6,000 people [1].", passages, AcceptAll())
    assert checked.text == "Siergiej Szojgu announced in June that Kim Jong Un agreed to send 6,000 people [1]."
    # a title the passage holds stays; an aside naming what it lacks, after no name, is no title: dropped whole
    kept = "Siergiej Szojgu, sekretarz Rady Bezpieczeństwa, poinformował w czerwcu o 6000 osób [1]."
    assert verify.check(kept, passages, AcceptAll()).text == kept
    assert verify.check("W czerwcu, po wizycie w Moskwie, Szojgu poinformował o 6000 osób [1].", passages,
                        AcceptAll()).refused


def test_words_after_the_last_marker_that_the_passage_lacks_are_cut_and_the_cited_claim_kept():
    # the model closed its cited claim with [1], then added a name of its own
    p = _passage('Rzecznik Kremla Dmitrij Pieskow przekazał, że Moskwa jest wdzięczna za "bezinteresowną, '
                 'heroiczną pomoc" żołnierzy z Korei Północnej.')
    checked = verify.check('Peskov said Moscow is grateful for the "heroiczną pomoc" [1] from the Korean People\'s Army.',
                           [p], AcceptAll(), "What did Dmitry Peskov say Moscow is grateful for?")
    assert not checked.refused and checked.text == 'Peskov said Moscow is grateful for the "heroiczną pomoc" [1].'
    # words after the marker that the passage holds stay
    checked = verify.check("Moscow is grateful [1] for the help of soldiers from North Korea.", [p], AcceptAll())
    assert checked.text == "Moscow is grateful for the help of soldiers from North Korea [1]."


def test_a_long_name_must_meet_more_than_its_first_four_letters():
    index = TermIndex("Władimir Putin i Kim Dzong Un rozmawiali w Ałabudze. Szojgu zapowiedział dostawy.")
    assert missing(key_terms("What did Putin and Kim agree on in Vladivostok?"), index) == ["Vladivostok"]
    assert missing(key_terms("Why did Shoigu visit Zaporizhzhia?"), index) == ["Zaporizhzhia"]
    assert missing(key_terms("Co produkuje się w Ałabudze, którą odwiedził Władimir Putin?"), index) == []
    assert missing(key_terms("Gdzie leży Ałabuga?"), index) == []


def test_a_capital_standing_for_its_government_is_no_missing_premise_where_its_country_is_named():
    ukraine = [_passage("Ukraiński wywiad oszacował, że w rosyjskich fabrykach broni pracowało 20 000 obywateli KRLD.")]
    question = "Ilu obywateli KRLD pracowało w rosyjskich fabrykach broni według Kijowa?"
    assert premise.gaps(question, None, ukraine) == []
    assert premise.gaps("How many North Koreans worked in Russian arms factories, according to Kyiv?", None, ukraine) == []
    assert premise.gaps(question, None, [_passage("Rosja zatrudnia 20 000 obywateli KRLD w fabrykach broni.")]) == \
        ["Kijowa"]


def test_a_name_misspelt_by_one_letter_is_written_as_the_cited_sentence_spells_it():
    # the 1.5B model writes "Wiłodin" for "Wołodin"; a reader following [1] must find the name
    passages = [_passage("Przewodniczący Dumy Państwowej Wiaczesław Wołodin oświadczył we wrześniu, że Rosjanie "
                         "nigdy nie zapomną pomocy.")]
    checked = verify.check("Wiłodin przewodniczy Dumie Państwowej [1].", passages, AcceptAll(),
                           question="Kto przewodniczy Dumie Państwowej?")
    assert checked.text == "Wołodin przewodniczy Dumie Państwowej [1]."
    # an English spelling stays: "Vyacheslav" is how English writes "Wiaczesław"
    english = verify.check("Vyacheslav Volodin chairs the State Duma [1].", passages, AcceptAll(),
                           question="Who chairs the State Duma?")
    assert english.text.startswith("Vyacheslav Volodin")
