"""The edge keeps each client connection on one gateway connection (``http-reuse never`` in
deploy/edge/haproxy.cfg), so one gateway process serves a keep-alive client: sharing its idle
gateway connections, the edge sent one client's requests over whichever was idle, to
alternating processes once a burst had opened many (benchmarks/README.md)."""

import http.server
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

BURST = 20


class AnswersWithPeerPort(http.server.BaseHTTPRequestHandler):
    """A stand-in gateway: answers each request with the port of the connection it came on."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the gateway

    def do_GET(self):
        time.sleep(0.05)  # the burst's requests overlap: the edge opens a connection for each
        body = str(self.client_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_client_connection_keeps_one_gateway_connection_after_a_burst(edge, web_config_port):
    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", web_config_port), AnswersWithPeerPort)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        url = edge().url + "/airport/1"
        burst = [requests.Session() for _ in range(BURST)]
        with ThreadPoolExecutor(BURST) as pool:
            opened = set(pool.map(lambda session: session.get(url, timeout=10).text, burst))
        for session in burst:
            session.close()
        assert len(opened) > BURST // 2  # the edge holds many gateway connections now

        with requests.Session() as client:
            ports = [client.get(url, timeout=10).text for _ in range(10)]

        assert len(set(ports)) == 1, ports
    finally:
        gateway.shutdown()
        gateway.server_close()
