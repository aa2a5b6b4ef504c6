import re
from dataclasses import replace

import pytest

from rag import evidence, lexicon
from rag.errors import BadInput
from rag.pipeline import Pipeline
from rag.prompt import REFUSALS, SYSTEM
from rag.types import Passage

A1 = "001_345fe1ab6c1f8ba1"
Q_PL = "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?"


def test_answer_cites_the_passage_that_holds_the_fact(make_pipeline):
    p = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."])
    answer = p.ask(Q_PL)
    assert answer.language == "pl" and not answer.refused
    assert answer.citations and answer.citations[0].article_id == A1
    c = answer.citations[0]
    text = (p.settings.seeds_dir / f"{A1}.txt").read_text(encoding="utf-8")
    assert text[c.start:c.end] == c.quote and "12 tys." in c.quote
    prompt = p.generator.prompts[0]
    assert prompt[0]["content"] == SYSTEM                    # fixed prefix, cacheable
    assert "Answer in Polish." in prompt[1]["content"] and "[1] " in prompt[1]["content"]


def test_stream_yields_tokens_then_one_answer(make_pipeline):
    p = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników w Tatarstanie [1]."])
    events = list(p.stream(Q_PL))
    assert [e.kind for e in events[:-1]] == ["token"] * (len(events) - 1)
    assert events[-1].kind == "answer" and events[-1].answer.timings.total_ms >= events[-1].answer.timings.ttft_ms


def test_model_refusal_becomes_the_refusal_in_the_question_language(make_pipeline):
    p = make_pipeline(["NO ANSWER", "NO ANSWER"])
    assert p.ask("Jaki jest przepis na bigos?").answer == REFUSALS["pl"]
    a = p.ask("What is the recipe for bigos?")
    assert a.refused and a.answer == REFUSALS["en"] and a.citations == []


def test_the_models_no_answer_counts_as_sure_as_the_setting_asks_and_its_probability_is_kept(make_pipeline):
    for min_p in (0.0, 0.4):
        p = make_pipeline(["NO ANSWER"], no_answer_min_p=min_p)
        p.generator.no_answer_p = 0.3
        answer = p.ask(Q_PL)
        assert [(f.word, f.min_p) for f in p.generator.firsts] == [("NO ANSWER", min_p)]
        assert answer.refused and answer.no_answer_p == 0.3 and answer.to_json()["no_answer_p"] == 0.3


def test_citation_to_a_passage_that_does_not_support_is_moved(make_pipeline):
    # the model cites [4] for a fact that passage 1 holds
    p = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [4]."])
    answer = p.ask(Q_PL)
    assert answer.citations[0].marker == 1 and answer.citations[0].supported
    assert answer.answer.endswith("[1].")


def test_answer_from_own_knowledge_is_refused(make_pipeline):
    p = make_pipeline(["The capital of Australia is Canberra [1]."])
    assert p.ask("What is the capital of Australia?").refused


def test_follow_up_is_rewritten_for_retrieval(make_pipeline):
    p = make_pipeline(["Ilu północnokoreańskich pracowników Rosja zatrudni w Tatarstanie?",
                       "Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."])
    answer = p.ask("a ilu ich będzie?", history=[("Gdzie Rosja produkuje drony Shahed?", "W Ałabudze [1].")])
    assert answer.retrieval_query.startswith("Ilu północnokoreańskich")
    assert "Gdzie Rosja produkuje drony" in p.generator.prompts[0][1]["content"]
    assert answer.citations[0].article_id == A1


def test_english_question_is_translated_for_retrieval_when_enabled(make_pipeline):
    p = make_pipeline(["Ilu pracowników z Korei Północnej zatrudni Rosja w Tatarstanie?",
                       "Russia plans to hire 12 thousand workers in Tatarstan [1]."], translate_query=True,
                      verify_citations=False)
    answer = p.ask("How many North Korean workers will Russia hire?")
    assert answer.language == "en" and answer.citations[0].article_id == A1
    assert p.generator.prompts[0][0]["content"].startswith("Translate")


def test_an_english_question_costs_one_model_call_by_default(make_pipeline):
    from rag.config import Settings

    p = make_pipeline(["Russia plans to hire 12 thousand workers in Tatarstan [1]."],
                      translate_query=Settings().translate_query, verify_citations=False)
    answer = p.ask("How many North Korean workers will Russia hire?")
    assert len(p.generator.prompts) == 1                 # the answer; the Polish search words come from a dictionary
    assert answer.translation.split()[:3] == ["wiele", "liczny", "północnokoreański"]
    assert answer.citations and not answer.refused


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01", "x" * 200_000])
def test_bad_questions_are_refused_before_any_model_runs(make_pipeline, question):
    p = make_pipeline()
    with pytest.raises(BadInput):
        p.ask(question)
    assert p.generator.prompts == []


def test_prompt_is_cut_to_budget(make_pipeline):
    p = make_pipeline(["NO ANSWER"], prompt_budget=120, k=6)
    answer = p.ask(Q_PL)
    # the fake generator counts words as tokens; " … " joins the kept sentences of a passage
    assert sum(len(x.text.replace(" … ", " ").split()) for x in answer.passages) <= 120
    assert [x.rank for x in answer.passages] == list(range(1, len(answer.passages) + 1))
    user = p.generator.prompts[0][1]["content"]
    assert all(f"[{x.rank}] " in user for x in answer.passages)
    assert "12 tys." in user                 # the sentence with the asked-for number survives


@pytest.mark.parametrize("k", [0, -3, 2.7, 21, True])
def test_bad_k_is_refused(make_pipeline, k):
    with pytest.raises(BadInput, match="number of passages"):
        make_pipeline().ask("Ilu pracowników?", k=k)


def test_whole_float_k_is_accepted(make_pipeline):
    assert len(make_pipeline(["NO ANSWER"]).ask("Ilu pracowników?", k=2.0).passages) <= 2


def test_warming_evaluates_the_fixed_system_prompt_before_any_question(make_pipeline):
    p = make_pipeline()
    p.warm()
    assert [m[0]["content"] for m in p.generator.prompts] == [SYSTEM]
    p.ask(Q_PL)                                   # the question's prompt starts with the same system message
    assert p.generator.prompts[-1][0] == p.generator.prompts[0][0]


def _select(p, passages, queries):
    return evidence.select(passages, queries, p.index(), p.embedder, p.generator.count_tokens, p.settings.prompt_budget)


def test_a_short_stem_in_a_lower_ranked_passage_reaches_the_prompt(make_pipeline):
    # "szefem" in the translation meets "Szef HUR, generał Kyryło Budanow" only through 4-character stems
    p = make_pipeline(prompt_budget=100)
    chunks = p.index().chunks
    last = next(c for c in chunks if "Szef HUR" in c.text)
    others = [c for c in chunks if c.article_id == last.article_id and c is not last]
    passages = [Passage(rank=r, chunk=c, score=0.0, title="", date=None, text=c.text)
                for r, c in enumerate(others + [last], start=1)]
    pruned = _select(p, passages, ["Who heads Ukraine's military intelligence (HUR)?",
                                   "Kto jest szefem wywiadu wojskowego Ukrainy (HUR)?"]).passages
    assert any("Szef HUR, generał Kyryło Budanow" in x.text for x in pruned)


def test_polish_answer_that_only_restates_the_question_becomes_quotes(make_pipeline):
    p = make_pipeline(["Rosja chce zatrudnić pracowników z Korei Północnej w Tatarstanie [1]."])
    answer = p.ask("Jakich pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?")
    assert not answer.refused and answer.answer.startswith("„") and "12 tys." in answer.answer
    text = (p.settings.seeds_dir / f"{A1}.txt").read_text(encoding="utf-8")
    assert answer.citations and all(text[c.start:c.end] == c.quote and c.quote in answer.answer
                                    for c in answer.citations)


def test_a_restated_answer_with_a_word_in_another_script_becomes_quotes_too(make_pipeline):
    # the small model's garble ("gazете") is no word the question lacks
    p = make_pipeline(["Rosja chce zatrudnić pracowników для Korei Północnej w Tatarstanie [1]."])
    answer = p.ask("Jakich pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?")
    assert not answer.refused and answer.answer.startswith("„") and "12 tys." in answer.answer


def test_a_restated_answer_to_how_many_when_or_who_is_refused_not_replaced(make_pipeline):
    # the best sentences would offer some number; the model giving none says the articles lack it
    p = make_pipeline(["Rosja chce zatrudnić pracowników z Korei Północnej w Tatarstanie [1]."])
    answer = p.ask(Q_PL)
    assert answer.refused and answer.answer == REFUSALS["pl"] and "restates the question" in answer.dropped[-1]
    # which place or body: the best sentences would offer a nearby one (a shipyard no article names)
    p = make_pipeline(["Rosja produkuje drony Shahed w mieście [1]."])
    answer = p.ask("W jakim mieście Rosja produkuje drony Shahed?")
    assert answer.refused and "no name given" in answer.dropped[-1]


def test_passage_dates_in_the_prompt_are_a_setting(make_pipeline):
    reply = ["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."]
    with_dates, without = make_pipeline(reply, prompt_dates=True), make_pipeline(reply)
    with_dates.ask(Q_PL)
    without.ask(Q_PL)
    assert re.search(r"\[1\] \(20\d\d-\d\d", with_dates.generator.prompts[0][1]["content"])
    assert not re.search(r"\(20\d\d-\d\d", without.generator.prompts[0][1]["content"])


def accepting_pipeline(settings, reply):
    """Fakes for the English repairs: the word-overlap embedder cannot judge English against
    Polish, so a judge that accepts every sentence stands in."""
    from .fakes import ScriptedGenerator, WordOverlapEmbedder
    from .test_premise_verify import AcceptAll

    return Pipeline(settings, embedder=WordOverlapEmbedder(), generator=ScriptedGenerator(reply_fn=reply),
                    judge=AcceptAll())


def test_english_answer_that_only_restates_the_question_becomes_the_best_sentences_translated(settings):
    question = "What does Russia plan for North Korean workers in Tatarstan?"
    prompts = []

    def reply(messages):
        prompts.append(messages)
        if "Translate the user's Polish text into English" in messages[0]["content"]:
            return "Russia plans to hire 12,000 North Korean workers in Tatarstan [1]."
        if "Translate the user's question into Polish" in messages[0]["content"]:
            return "Co Rosja planuje zrobić z północnokoreańskimi pracownikami w Tatarstanie?"
        return "Russia plans North Korean workers in Tatarstan [1]."       # restates the question

    # the word-overlap embedder cannot rank Polish sentences for an English question: the sentences
    # are chosen by the translation's words
    pipeline = accepting_pipeline(replace(settings, translate_query=True), reply)
    answer = pipeline.ask(question)
    assert answer.answer.startswith("Russia plans to hire 12,000 North Korean workers in Tatarstan [")
    translated = prompts[-1][-1]["content"]             # the Polish sentences that were translated
    assert "12 tys." in translated and "„" not in translated
    assert answer.polish == translated and any("12 tys." in c.quote for c in answer.citations)
    assert {f"[{c.marker}]" for c in answer.citations} <= set(re.findall(r"\[\d+\]", answer.answer))
    assert answer.timings.ttft_ms < answer.timings.total_ms


def test_english_answer_with_polish_words_is_translated_with_its_markers(settings):
    def reply(messages):
        if "Translate the user's Polish text into English" in messages[0]["content"]:
            return "Russia plans to hire 12,000 North Korean workers in Tatarstan [1]."
        return "Russia plans to hire 12 tys. północnokoreańskich workers in Tatarstan [1]."

    pipeline = accepting_pipeline(settings, reply)
    answer = pipeline.ask("How many North Korean workers does Russia plan to hire in Tatarstan?")
    assert re.fullmatch(r"Russia plans to hire 12,000 North Korean workers in Tatarstan \[\d\]\.", answer.answer)
    assert answer.polish.startswith("Russia plans to hire 12 tys. północnokoreańskich") and answer.citations


@pytest.mark.parametrize("on", [True, False])
def test_an_english_answer_spells_the_articles_names_the_english_way_and_citations_quote_the_article(settings, on):
    def reply(messages):
        return "Dmitrij Pieskow said Moskwa is grateful for the help of soldiers from Korea Północna [1]."

    pipeline = accepting_pipeline(replace(settings, english_names=on), reply)
    answer = pipeline.ask("What did Kremlin spokesman Dmitrij Pieskow say Moscow is grateful for?")
    assert not answer.refused and answer.citations
    said = "Dmitry Peskov said Moscow is grateful for the help of soldiers from North Korea [" if on else \
        "Dmitrij Pieskow said Moskwa"
    assert answer.answer.startswith(said)
    assert any("Pieskow" in c.quote for c in answer.citations)          # the reader finds the article's words
    polish = pipeline.ask("Co powiedział rzecznik Kremla Dmitrij Pieskow?")     # a Polish answer keeps them
    assert "Dmitrij Pieskow" in polish.answer


def test_who_is_answered_by_an_english_post_of_its_body_and_the_holder_after_it(settings):
    # "Secretary of Russia's Security Council Siergiej Szojgu": the post stands before "of", the
    # holder after the body's words, which the question repeats
    def reply(messages):
        return "Secretary of Russia's Security Council Siergiej Szojgu visited Pyongyang [1]."

    answer = accepting_pipeline(settings, reply).ask("Who visited Pyongyang as Secretary of Russia's Security Council?")
    assert not answer.refused and "Sergei Shoigu visited Pyongyang [" in answer.answer, answer.dropped


@pytest.mark.parametrize("question, reply", [
    # the Pentagon's general is not the North Korean general asked for
    ("Jak nazywa się północnokoreański generał dowodzący żołnierzami KRLD w obwodzie kurskim?",
     "Generał Patrick Ryder dowodzący żołnierzami KRLD w obwodzie kurskim jest północnokoreański generał [1]."),
    ("What is the name of the North Korean general commanding the troops in Kursk?",
     "The North Korean general commanding the troops in Kursk is General Patrick Ryder [1]."),
    # "sekretarz Rady Bezpieczeństwa Siergiej Szojgu poinformował, że Kim Dzong Un…": the secretary is
    # Szojgu, not the Kim named after him
    ("Jak nazywa się północnokoreański dowódca, który nadzoruje saperów rozminowujących obwód kurski?",
     "Północnokoreański dowódca, który nadzoruje saperów, jest Kim Dzong Un [1]."),
])
def test_who_holds_a_post_is_not_answered_by_a_name_that_holds_no_such_post(settings, question, reply):
    answer = accepting_pipeline(settings, lambda messages: reply).ask(question)
    assert answer.refused, answer.answer


def test_who_holds_a_post_of_the_side_asked_is_answered(settings):
    def reply(messages):
        return "Rzecznik Pentagonu generał Patrick Ryder przyznał, że żołnierze KRLD zmierzają do obwodu kurskiego [1]."

    answer = accepting_pipeline(settings, reply).ask(
        "Który amerykański generał, rzecznik Pentagonu, przyznał, że żołnierze KRLD zmierzają do obwodu kurskiego?")
    assert not answer.refused and "Patrick Ryder" in answer.answer, answer.dropped


def test_who_leads_in_polish_is_searched_for_by_its_post(settings):
    # "Kto kieruje HUR?" is answered by "Szef HUR, generał Kyryło Budanow…": the verb's post is searched for
    prompts = []

    def reply(messages):
        prompts.append(messages[-1]["content"])
        return "Szef HUR, generał Kyryło Budanow [1]."

    answer = accepting_pipeline(settings, reply).ask("Kto kieruje ukraińskim wywiadem wojskowym HUR?")
    assert "Kyryło Budanow" in prompts[0] and not answer.refused, prompts


def test_a_translation_that_changes_a_number_loses_that_sentence(settings):
    def reply(messages):
        if "Translate the user's Polish text into English" in messages[0]["content"]:
            return "Russia plans to hire 120,000 North Korean workers in Tatarstan [1]."    # 12 tys. mistranslated
        return "Russia plans to hire 12 tys. północnokoreańskich workers in Tatarstan [1]."

    pipeline = accepting_pipeline(settings, reply)
    answer = pipeline.ask("How many North Korean workers does Russia plan to hire in Tatarstan?")
    assert answer.refused and answer.answer == REFUSALS["en"] and "120,000" in answer.dropped[-1]


def test_an_answer_without_the_number_asked_for_is_refused(make_pipeline):
    question = "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?"
    nearby = "Rosja chce produkować drony Shahed w Tatarstanie [1]."        # cited, but no number
    answer = make_pipeline([nearby]).ask(question)
    assert answer.refused and answer.answer == REFUSALS["pl"] and "no quantity as asked" in answer.dropped[-1]
    assert not make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."]
                             ).ask(question).refused


def test_who_holds_a_post_is_refused_when_no_cited_sentence_names_a_post(make_pipeline):
    # "Kto kieruje…?" answered with a sentence that names a country, and no one in charge of anything
    question = "Kto kieruje zatrudnianiem pracowników z Korei Północnej w Tatarstanie?"
    answer = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."]).ask(question)
    assert answer.refused and "post asked" in answer.dropped[-1]
    assert not make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."]).ask(
        "Kto chce zatrudnić pracowników z Korei Północnej w Tatarstanie?").refused       # who, but no post asked


def test_who_is_answered_by_a_post_its_body_and_holder_written_as_one_name(make_pipeline):
    # "Rzecznik Kremla Dmitrij Pieskow": the question's "Kremla" in the same capitalised run as the
    # holder did not make him a name the question already holds
    answer = make_pipeline(["Rzecznik Kremla Dmitrij Pieskow [1]."]).ask(
        "Który rzecznik Kremla przyjął podobną narrację o pomocy żołnierzy z Korei Północnej?")
    assert not answer.refused and "Pieskow" in answer.answer
    answer = make_pipeline(["Przewodniczący Dumy Państwowej Federacji Rosyjskiej [1]."]).ask(
        "Kto przewodniczy Dumie Państwowej Federacji Rosyjskiej?")       # the post and body, no holder
    assert answer.refused and "no who as asked" in answer.dropped[-1]


def test_a_name_glued_to_the_word_before_it_in_the_article_is_still_found_there(make_pipeline):
    # the article writes "Rosyjski przywódcaWładimir Putin powiedział w kwietniu…" (a lost space)
    answer = make_pipeline(["Rosyjski przywódca Władimir Putin powiedział to w kwietniu [1]."]).ask(
        "Który przywódca Rosji powiedział w kwietniu, że z pomocą Korei Północnej wyparto Ukraińców z obwodu kurskiego?")
    assert not answer.refused and "Władimir Putin" in answer.answer


def test_a_number_that_counts_something_else_is_refused(make_pipeline):
    # the cited sentence's "12 tys." counts workers, not the drones asked about
    question = "Ile dronów Shahed Rosja chce produkować w Tatarstanie?"
    answer = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników w Tatarstanie [1]."]).ask(question)
    assert answer.refused and answer.answer == REFUSALS["pl"] and "count something else" in answer.dropped[-1]
    workers = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników w Tatarstanie [1]."]).ask(
        "Ilu pracowników Rosja chce zatrudnić w Tatarstanie?")
    assert not workers.refused and "12 tys." in workers.answer


def test_extractive_fallback_can_be_switched_off(make_pipeline):
    reply = "Rosja chce zatrudnić pracowników z Korei Północnej w Tatarstanie [1]."
    answer = make_pipeline([reply], extractive_fallback=False).ask(Q_PL)
    assert not answer.answer.startswith("„")


def test_pruning_keeps_the_best_two_sentences_and_never_a_title(make_pipeline):
    question = ["Wojna w Ukrainie: jakie miny rozbrajają żołnierze z Korei Północnej?"]
    for budget in (1, 10_000):
        p = make_pipeline(prompt_budget=budget)
        chunks = [c for c in p.index().chunks if c.article_id.startswith("004")]
        passages = [Passage(rank=r, chunk=c, score=0.0, title="", date=None, text=c.text)
                    for r, c in enumerate(chunks, start=1)]
        shown = " … ".join(x.text for x in _select(p, passages, question).passages)
        if budget == 1:
            assert shown.count(" … ") == 1               # two sentences although the budget is 1 token
        assert "Wojna w Ukrainie." not in shown          # a subheading, however well it matches


def test_a_best_sentence_far_ahead_of_the_second_goes_in_alone(make_pipeline):
    p = make_pipeline(prompt_budget=1)
    chunks = [c for c in p.index().chunks if c.article_id == A1]
    passages = [Passage(rank=r, chunk=c, score=0.0, title="", date=None, text=c.text)
                for r, c in enumerate(chunks, start=1)]

    def shown(margin):
        found = evidence.select(passages, [Q_PL], p.index(), p.embedder, p.generator.count_tokens, 1, margin=margin)
        return [found.passages[n - 1].chunk.text[s:e] for n, s, e in found.best]

    both, alone = shown(0.0), shown(1e-9)         # off: the best two; any lead at all: the best alone
    assert len(both) == 2 and alone == both[:1]
    assert shown(100.0) == both                   # a lead no sentence has: the best two again


def test_english_prompts_gloss_polish_months_and_amounts_polish_prompts_do_not(settings, make_pipeline):
    def reply(messages):
        return "Russia plans to hire 12,000 North Korean workers in Tatarstan [1]."

    english = accepting_pipeline(settings, reply)
    english.ask("How many North Korean workers does Russia plan to hire in Tatarstan?")
    shown = english.generator.prompts[-1][1]["content"]
    assert "12 tys. (12,000)" in shown
    polish = make_pipeline(["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."])
    polish.ask(Q_PL)
    assert "12 tys." in polish.generator.prompts[0][1]["content"] and "(12,000)" not in polish.generator.prompts[0][1]["content"]


def test_a_question_nothing_retrieved_is_close_to_is_refused_as_off_topic(make_pipeline):
    from rag.prompt import OFF_TOPIC

    reply = ["Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]."]
    off = "Jak przygotować ciasto na pierogi z kapustą?"
    strict = make_pipeline(reply, min_similarity=0.99)
    answer = strict.ask(off)
    assert answer.refused and answer.answer == OFF_TOPIC["pl"] and strict.generator.prompts == []
    assert not make_pipeline(reply, min_similarity=0.99).ask(Q_PL).refused      # its words are the articles'
    assert make_pipeline(["NO ANSWER"], min_similarity=0.0).ask(off).answer != OFF_TOPIC["pl"]
    # -1 (the default) takes the embedder's calibrated value; the test embedder has none: off
    assert make_pipeline(reply).min_similarity == 0.0 and not make_pipeline(reply).ask(Q_PL).refused


@pytest.mark.parametrize("antecedents, named", [(0, False), (3, True)])
def test_a_sentence_that_leaves_its_speaker_to_an_earlier_one_brings_it(make_pipeline, antecedents, named):
    # "Przekazał on dziennikarzom…" names nobody; two sentences back: "…rzecznik Kremla Dmitrij Pieskow."
    p = make_pipeline(prompt_budget=1)
    chunk = next(c for c in p.index().chunks if "Przekazał on dziennikarzom" in c.text)
    passages = [Passage(rank=1, chunk=chunk, score=0.0, title="", date=None, text=chunk.text)]
    found = evidence.select(passages, ["Kto przekazał dziennikarzom, że Moskwa jest wdzięczna za pomoc?"], p.index(),
                            p.embedder, p.generator.count_tokens, 1, margin=1e-9, antecedents=antecedents)
    shown = found.passages[0].text
    assert shown.startswith("Przekazał on dziennikarzom") != named
    assert ("Pieskow" in shown) == named
    assert shown.count(" … ") == int(named)       # the speaker's sentence alone, not those between


@pytest.mark.parametrize("follow", [False, True])
def test_the_best_sentence_brings_the_next_when_that_one_goes_on_about_it(make_pipeline, follow):
    # "…ponad 5 tysięcy żołnierzy… jednostek inżynieryjnych…" is followed by "Oficjalnie mają oni wspierać
    # odbudowę infrastruktury…": what the units are officially for stands only in the second
    p = make_pipeline(prompt_budget=1)
    chunk = next(c for c in p.index().chunks if "Oficjalnie mają oni wspierać" in c.text)
    passages = [Passage(rank=1, chunk=chunk, score=0.0, title="", date=None, text=chunk.text)]
    found = evidence.select(passages, ["Ilu żołnierzy jednostek inżynieryjnych przemieściło się do Rosji według "
                                       "zamkniętego posiedzenia Zgromadzenia Narodowego?"], p.index(),
                            p.embedder, p.generator.count_tokens, 1, margin=1e-9, follow=follow)
    shown = found.passages[0].text
    assert shown.startswith("Według informacji przedstawionych podczas zamkniętego posiedzenia")
    assert ("Oficjalnie mają oni wspierać" in shown) == follow
    assert found.best[0][1] < found.best[-1][1] if follow else len(found.best) == 1    # the best first, then its next


def test_the_next_sentence_goes_on_when_it_says_its_or_his(make_pipeline):
    # "…szkolą się we wspólnej bazie … Postojałyje Dwory." then "CNN potwierdziło jej istnienie…": who
    # confirmed the base stands only in the second
    p = make_pipeline(prompt_budget=1)
    chunk = next(c for c in p.index().chunks if "CNN potwierdziło jej istnienie" in c.text)
    passages = [Passage(rank=1, chunk=chunk, score=0.0, title="", date=None, text=chunk.text)]
    found = evidence.select(passages, ["Pod jaką miejscowością wojska rosyjskie i północnokoreańskie szkolą się we "
                                       "wspólnej bazie wojskowej?"], p.index(), p.embedder, p.generator.count_tokens,
                            1, margin=1e-9, follow=True)
    assert "Postojałyje Dwory" in found.passages[0].text and "CNN potwierdziło jej istnienie" in found.passages[0].text


def test_a_sentence_that_names_its_subject_by_a_demonstrative_brings_the_one_that_names_it(make_pipeline):
    # "Firma ta jest odpowiedzialna za … rekrutację" leaves the firm's name, Jihyang, to the sentence before
    p = make_pipeline(prompt_budget=1)
    chunk = next(c for c in p.index().chunks if "Firma ta jest odpowiedzialna" in c.text)
    passages = [Passage(rank=1, chunk=chunk, score=0.0, title="", date=None, text=chunk.text)]
    found = evidence.select(passages, ["Która firma odpowiada za poszukiwanie i rekrutację koreańskich pracowników?"],
                            p.index(), p.embedder, p.generator.count_tokens, 1, margin=1e-9, antecedents=3)
    assert "Jihyang" in found.passages[0].text and "Firma ta jest odpowiedzialna" in found.passages[0].text


def test_an_english_word_meets_the_sentence_by_any_one_of_its_polish_renderings(make_pipeline):
    # "military" has four renderings (wojsko, wojskowy, armia, militarny) and "intelligence" three;
    # counted word by word they outweighed "szef HUR", the sentence that names the head
    p = make_pipeline(prompt_budget=1)
    passages = [Passage(rank=r, chunk=c, score=0.0, title="", date=None, text=c.text)
                for r, c in enumerate(p.index().chunks, start=1)]
    question = "Who heads Ukraine's military intelligence (HUR)?"

    def best(groups):
        found = evidence.select(passages, [question, lexicon.polish_words(question)], p.index(), p.embedder,
                                p.generator.count_tokens, 1, groups=groups)
        n, s, e = found.best[0]
        return found.passages[n - 1].chunk.text[s:e]

    assert best(lexicon.polish_groups(question)).startswith("Szef HUR, generał Kyryło Budanow")
    assert not best(None).startswith("Szef HUR")


def _select_args(monkeypatch, name: str) -> list:
    """The `name` keyword each later `evidence.select` call gets, in order."""
    seen, select = [], evidence.select
    monkeypatch.setattr(evidence, "select", lambda *a, **kw: seen.append(kw[name]) or select(*a, **kw))
    return seen


def test_english_and_polish_questions_both_bring_the_sentence_that_goes_on(make_pipeline, monkeypatch):
    seen = _select_args(monkeypatch, "follow")
    make_pipeline().ask("What is the official job of the North Korean engineering units?")
    make_pipeline().ask(Q_PL)
    make_pipeline(follow=False).ask(Q_PL)
    assert seen == [True, True, False]


def test_the_pipeline_groups_an_english_questions_dictionary_words_only(make_pipeline, monkeypatch):
    seen = _select_args(monkeypatch, "groups")
    make_pipeline().ask("Who heads Ukraine's military intelligence (HUR)?")
    make_pipeline().ask(Q_PL)
    make_pipeline(query_lexicon=False, translate_query=True).ask("Who heads Ukraine's military intelligence (HUR)?")
    assert seen[0][:2] == ["szef przywódca kierować głowa", "Ukraina"] and seen[1:] == [None, None]


def test_a_second_look_chooses_none_of_the_sentences_shown_first(make_pipeline):
    p = make_pipeline(prompt_budget=1)
    chunks = [c for c in p.index().chunks if c.article_id == A1]
    passages = [Passage(rank=r, chunk=c, score=0.0, title="", date=None, text=c.text)
                for r, c in enumerate(chunks, start=1)]
    first = evidence.select(passages, [Q_PL], p.index(), p.embedder, p.generator.count_tokens, 1)
    again = evidence.select(passages, [Q_PL], p.index(), p.embedder, p.generator.count_tokens, 1, skip=first.shown)
    assert len(first.shown) == 2 and len(again.shown) == 2 and not first.shown & again.shown
    starts = {(q.chunk.id, q.chunk.text.index(x)) for q in first.passages for x in q.text.split(" … ")}
    assert first.shown == starts                     # (chunk id, start) of each sentence the prompt showed


def test_a_refused_answer_is_tried_once_more_from_the_next_sentences_when_the_setting_asks(make_pipeline):
    wrong = "Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Syberii [1]."   # no Syberia: dropped
    for second_look in (False, True):
        p = make_pipeline(["NO ANSWER", wrong], second_look=second_look)
        events = list(p.stream(Q_PL))
        answer = events[-1].answer
        assert answer.refused and not answer.looked_again
        assert len(p.generator.prompts) == 1 + second_look
        assert [e.kind for e in events].count("status") == second_look
    first, second = (m[1]["content"] for m in p.generator.prompts)
    shown = [line for line in first.splitlines() if line.startswith("[")]
    assert shown and not any(line[4:] in second for line in shown)     # none of its sentences shown again
    assert answer.no_answer_p is None and answer.dropped == []         # the first look's refusal stands


def test_a_second_looks_answer_replaces_the_withdrawn_first_one(make_pipeline):
    def reply(messages):              # the first look shows the title's sentence, the second the purpose
        shown = messages[1]["content"]
        return "Zatrudnienie pracowników ma na celu zwiększenie produkcji maszyn [1]." if "na celu" in shown \
            else "NO ANSWER"
    p = make_pipeline(reply_fn=reply, second_look=True, prompt_budget=1)
    events = list(p.stream("Po co Rosja chce zatrudnić pracowników z Korei Północnej w Tatarstanie?"))
    kinds = [e.kind for e in events]
    answer = events[-1].answer
    assert len(p.generator.prompts) == 2 and "na celu" not in p.generator.prompts[0][1]["content"]
    assert kinds.count("status") == 1 and kinds[-1] == "answer" and "token" in kinds[kinds.index("status"):]
    assert "".join(e.text for e in events[kinds.index("status"):] if e.kind == "token").startswith("Zatrudnienie")
    assert not answer.refused and answer.looked_again and answer.to_json()["looked_again"] is True
    assert "na celu" in answer.citations[0].quote and "na celu" in answer.passages[0].text
    assert answer.timings.ttft_ms <= answer.timings.total_ms
