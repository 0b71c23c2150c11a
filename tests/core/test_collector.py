"""The cycle collector held off while a document is laid out (afest.core.collector): off inside,
on again after, even on an error; two threads holding it keep it off until the last one is
done; a collector someone else turned off stays off; and a proof pack's PDF lays out with it
off and leaves it on."""

from __future__ import annotations

import gc
import threading

import pytest

from afest.core import collector


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_off_inside_and_on_after():
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_on_again_after_an_error():
    with pytest.raises(ValueError), collector.paused():
        raise ValueError("layout failed")
    assert gc.isenabled()


def test_two_threads_keep_it_off_until_the_last_is_done():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with collector.paused():
            first_in.set()
            second_in.wait(5)
        seen["after_first"] = gc.isenabled()
        first_out.set()

    def second():
        first_in.wait(5)
        with collector.paused():
            second_in.set()
            first_out.wait(5)
            seen["while_second_holds"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after_first": False, "while_second_holds": False}
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_stays_off():
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_pdf_is_laid_out_with_the_collector_off_and_leaves_it_on(monkeypatch):
    from weasyprint import Document

    from afest.proof import proofpack

    states = []
    write_pdf = Document.write_pdf

    def spy(self, *args, **kwargs):
        states.append(gc.isenabled())
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(Document, "write_pdf", spy)
    pdf = proofpack.plain_pdf("<h1>État des dépenses</h1>", base_url="http://localhost/")
    assert pdf.startswith(b"%PDF-")
    assert states == [False]
    assert gc.isenabled()
