import socket

from service_testing import ports


def test_a_free_port_is_bindable_and_below_the_ephemeral_range():
    port = ports.free_port()

    assert ports.LOWEST <= port < ports.ephemeral_start()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()


def test_a_port_something_listens_on_is_passed_over(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", ports.free_port()))
        listener.listen()
        held = listener.getsockname()[1]
        other = held + 1
        monkeypatch.setattr(ports.random, "sample", lambda population, k: [held, other])

        assert ports.free_port() == other
