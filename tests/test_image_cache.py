"""Image lookups remembered while watching: kept until an image event, never without a stream."""
from __future__ import annotations

import io
import queue
from types import SimpleNamespace

import pytest

from runner.executors import image_cache
from tests.conftest import wait_until


class FakeStream:
    """An event stream that yields what a test puts in, until closed."""

    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()
        self.closed = False

    def __iter__(self):
        while True:
            event = self.events.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        self.closed = True
        self.events.put(None)


class FakeClient:
    """Counts image lookups; `ids` says what each name is now."""

    def __init__(self) -> None:
        self.ids = {"base:1": "sha256:aaa"}
        self.gets = 0
        self.stream = FakeStream()
        self.images = SimpleNamespace(get=self._get)

    def _get(self, name: str):
        self.gets += 1
        return SimpleNamespace(id=self.ids[name], labels={"amlocal.requirements": '["x"]'})

    def events(self, filters, decode):
        assert filters == {"type": "image"} and decode is True
        return self.stream


@pytest.fixture
def client():
    fake = FakeClient()
    yield fake
    image_cache.stop_image_cache()


def test_without_a_running_cache_every_lookup_asks_the_engine(client):
    assert image_cache.image_cache_running() is False
    assert image_cache.lookup(client, "base:1") == ("sha256:aaa", {"amlocal.requirements": '["x"]'})
    assert image_cache.lookup(client, "base:1")[0] == "sha256:aaa"
    assert client.gets == 2


def test_a_running_cache_remembers_until_an_image_event(client):
    assert image_cache.start_image_cache(client) is True
    assert image_cache.start_image_cache(client) is True  # already running: one stream
    assert image_cache.lookup(client, "base:1")[0] == "sha256:aaa"
    assert image_cache.lookup(client, "base:1")[0] == "sha256:aaa"
    assert client.gets == 1
    client.ids["base:1"] = "sha256:bbb"  # e.g. `docker tag other base:1`
    client.stream.events.put({"Type": "image", "Action": "tag"})
    wait_until(lambda: image_cache.lookup(client, "base:1")[0] == "sha256:bbb", timeout=5, step=0.005)
    assert client.gets == 2


def test_a_stream_that_ends_stops_the_cache(client):
    image_cache.start_image_cache(client)
    image_cache.lookup(client, "base:1")
    client.stream.events.put(None)  # the engine went away
    wait_until(lambda: not image_cache.image_cache_running(), timeout=5, step=0.005)
    image_cache.lookup(client, "base:1")
    image_cache.lookup(client, "base:1")
    assert client.gets == 3


def test_stopping_closes_the_stream_and_forgets(client):
    image_cache.start_image_cache(client)
    image_cache.lookup(client, "base:1")
    image_cache.stop_image_cache()
    assert client.stream.closed is True
    assert image_cache.image_cache_running() is False
    image_cache.lookup(client, "base:1")
    assert client.gets == 2


def test_a_missing_image_is_never_remembered(client):
    image_cache.start_image_cache(client)
    with pytest.raises(KeyError):
        image_cache.lookup(client, "gone:1")
    client.ids["gone:1"] = "sha256:ccc"
    assert image_cache.lookup(client, "gone:1")[0] == "sha256:ccc"


@pytest.mark.docker
def test_retagging_a_real_image_is_seen_by_the_next_lookup(docker_image):
    from runner.executors.docker_engine import docker_client
    real = docker_client()
    tag = "amlocal-test/image-cache:retag"
    base = real.images.get(docker_image)
    assert image_cache.start_image_cache(real) is True
    try:
        base.tag(tag)
        wait_until(lambda: image_cache.lookup(real, tag)[0] == base.id, timeout=5, step=0.005)
        # another image under the same tag: the cache must not keep the old id
        other = real.images.build(fileobj=io.BytesIO(
            f"FROM {docker_image}\nLABEL amlocal.test=retag\n".encode()), rm=True)[0]
        other.tag(tag)
        wait_until(lambda: image_cache.lookup(real, tag)[0] == other.id, timeout=5, step=0.005)
        assert other.id != base.id
    finally:
        image_cache.stop_image_cache()
        try:
            real.images.remove(tag, force=True)  # the built image had only this tag: it goes too
        except Exception:
            pass
