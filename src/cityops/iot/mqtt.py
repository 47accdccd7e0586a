"""The MQTT consumer of `cityops iot ingest`.

Delivery guarantee (at least once from the broker, exactly once in the database):
- QoS 1 with a persistent session (MQTT 5 clean_start=False + session expiry, fixed client id): while the
  consumer is down the broker keeps its subscription and queues the readings for it;
- manual acknowledgement: a PUBACK is sent only after the batch holding the message has committed, so a
  consumer killed mid-batch gets the unacknowledged messages again on reconnect;
- the database refuses a second (device, message id), so a redelivered reading is stored once.

Throughput: paho's network thread only appends to a buffer; the main thread drains it in batches (one
transaction each). Receive Maximum 65,535 lets the broker keep that many QoS 1 messages in flight to us
(the protocol's limit: packet ids are 16 bits), so acknowledging after commit does not throttle delivery.
Several consumers share the load with a shared subscription (`$share/<group>/cityops/<instance>/readings/+`).

Broker configuration matters for "nothing lost": Mosquitto keeps at most `max_queued_messages` (default
1,000) QoS 1 messages per session beyond those in flight and silently drops the rest for a consumer that is
down or behind (measured here: a persistent session lost ~3 % of a 5,000-message burst). Production sets it to
the backlog it must survive, e.g. `max_queued_messages 10000000` (and watch the broker's memory).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import socket
import ssl
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.db import close_old_connections, connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cityops.iot import conf
from cityops.iot.ingest import Ingestor, Message

logger = logging.getLogger(__name__)

SESSION_TAKEN_OVER = 142  # MQTT 5 DISCONNECT reason code: another client connected with the same client id
QUICK_DROP_S = 10  # a connection the broker drops this soon after it was made, twice running: taken over


@dataclass
class BrokerConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""

    @classmethod
    def from_settings(cls, **overrides) -> BrokerConfig:
        values = {
            "host": conf.get("MQTT_HOST"), "port": int(conf.get("MQTT_PORT")), "username": conf.get("MQTT_USERNAME"),
            "password": conf.get("MQTT_PASSWORD"), "tls": bool(conf.get("MQTT_TLS")), "ca_file": conf.get("MQTT_CA_FILE"),
        }
        values.update({k: v for k, v in overrides.items() if v not in (None, "")})
        return cls(**values)

    def apply(self, client: mqtt.Client) -> None:
        if self.username:
            client.username_pw_set(self.username, self.password or None)
        if self.tls:
            client.tls_set(ca_certs=self.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)


def broker_reachable(broker: BrokerConfig, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((broker.host, broker.port), timeout=timeout):
            return True
    except OSError:
        return False


def subscription_topic(prefix: str, shared_group: str = "") -> str:
    topic = f"{prefix.rstrip('/')}/+"
    return f"$share/{shared_group}/{topic}" if shared_group else topic


class Consumer:
    def __init__(
        self,
        *,
        broker: BrokerConfig | None = None,
        client_id: str | None = None,
        topic_prefix: str | None = None,
        shared_group: str | None = None,
        session_expiry: int | None = None,
        batch_max: int | None = None,
        flush_ms: int | None = None,
        ingestor: Ingestor | None = None,
    ) -> None:
        self.broker = broker or BrokerConfig.from_settings()
        self.client_id = client_id or conf.get("MQTT_CLIENT_ID")
        self.prefix = (topic_prefix or conf.get("MQTT_TOPIC_PREFIX")).rstrip("/")
        self.topic = subscription_topic(self.prefix, conf.get("MQTT_SHARED_GROUP") if shared_group is None else shared_group)
        self.session_expiry = int(conf.get("MQTT_SESSION_EXPIRY_S") if session_expiry is None else session_expiry)
        self.batch_max = int(batch_max or conf.get("BATCH_MAX"))
        self.batch_max_bytes = int(conf.get("BATCH_MAX_BYTES"))
        self._buffered_bytes = 0
        self.flush_s = int(flush_ms or conf.get("FLUSH_MS")) / 1000.0
        self.ingestor = ingestor or Ingestor()
        self._buffer: list[tuple[str, bytes, int, int]] = []
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.taken_over = 0  # times the broker handed our session to another client with our id
        self._connected_at = 0.0
        self._quick_drops = 0
        self.batches = 0
        self.last_sweep = time.monotonic()
        self.client = self._make_client()

    # --- paho side (network thread) --------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True,
        )
        self.broker.apply(client)
        client.max_inflight_messages_set(65535)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("MQTT connect refused: %s", reason_code)
            return
        logger.info("MQTT connected to %s:%s as %s (session present: %s)", self.broker.host, self.broker.port,
                    self.client_id, flags.session_present)
        self._connected_at = time.monotonic()
        self.connected.set()
        # Subscribing again on a resumed session is harmless and covers a session the broker forgot.
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.subscribed.clear()
        if self._stop.is_set():
            return
        # Another client connecting with our client id takes our session: MQTT 5 brokers may say so (reason
        # 142); Mosquitto 2.0 just closes the socket, so a connection dropped twice within seconds of being
        # made counts as taken over too. Two instances with one id would knock each other off forever.
        quick = time.monotonic() - self._connected_at < QUICK_DROP_S
        self._quick_drops = self._quick_drops + 1 if quick else 0
        if reason_code == SESSION_TAKEN_OVER or self._quick_drops >= 2:
            if not self.taken_over:
                logger.error(
                    "MQTT 会话被另一个使用相同客户端标识 %r 的客户端接管：另一个 cityops 实例正在使用它，请为每个实例设置 "
                    "CITYOPS_INSTANCE 或 CITYOPS_IOT_MQTT_CLIENT_ID / MQTT session taken over by another client with "
                    "the same client id %r: another cityops instance uses it; give each instance its own "
                    "CITYOPS_INSTANCE or CITYOPS_IOT_MQTT_CLIENT_ID", self.client_id, self.client_id,
                )
            self.taken_over += 1
            return
        logger.warning("MQTT disconnected (%s); paho reconnects", reason_code)

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self._buffer.append((msg.topic, msg.payload, msg.mid, msg.qos))
            self._buffered_bytes += len(msg.payload)
            if len(self._buffer) >= self.batch_max or self._buffered_bytes >= self.batch_max_bytes:
                self._lock.notify()

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self, *, wait: float = 10.0) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = int(conf.get("MQTT_RECEIVE_MAXIMUM"))
        self.client.connect(self.broker.host, self.broker.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        if wait and not self.subscribed.wait(wait):
            raise ConnectionError(f"MQTT broker {self.broker.host}:{self.broker.port} did not accept the subscription")

    def stop(self, *, drain: bool = True) -> None:
        """drain=True: store what is buffered (and acknowledge it) before disconnecting. drain=False is
        what a crash looks like: buffered messages stay unacknowledged and the broker redelivers them."""
        self._stop.set()
        if drain:
            while self.poll(0) and self.connected.is_set():
                pass
        self.client.disconnect()
        self.client.loop_stop()

    def kill(self) -> None:
        """Drop the connection without draining or a clean DISCONNECT (tests: a consumer that dies)."""
        self._stop.set()
        with contextlib.suppress(Exception):  # already closed
            self.client.socket().close()
        self.client.loop_stop()

    # --- processing (caller's thread) ------------------------------------------------------------------
    def _take(self, timeout: float | None) -> list[tuple[str, bytes, int, int]]:
        """Wait up to `timeout` (default: flush interval) for messages; take one batch off the buffer."""
        with self._lock:
            if not self._buffer:
                self._lock.wait(self.flush_s if timeout is None else timeout)
            take = size = 0
            for _topic, payload, _mid, _qos in self._buffer:
                if take >= self.batch_max or (take and size + len(payload) > self.batch_max_bytes):
                    break
                take += 1
                size += len(payload)
            batch, self._buffer = self._buffer[:take], self._buffer[take:]
            self._buffered_bytes -= size
        return batch

    def _messages(self, batch) -> list[Message]:
        prefix_len = len(self.prefix) + 1
        return [
            Message(topic[prefix_len:] if topic.startswith(self.prefix) else topic.rsplit("/", 1)[-1], payload, topic)
            for topic, payload, _mid, _qos in batch
        ]

    def _ack(self, batch) -> None:
        """Committed: now the broker may forget them."""
        for _topic, _payload, mid, qos in batch:
            if qos:
                self.client.ack(mid, qos)
        self.batches += 1

    def poll(self, timeout: float | None = None) -> int:
        """Wait up to `timeout` (default: flush interval) for messages, store one batch, acknowledge it.
        Returns the number of messages handled."""
        batch = self._take(timeout)
        if not batch:
            self._maybe_sweep()
            return 0
        if not self._store(self._messages(batch)):
            # Keep the batch, unacknowledged, for the next poll; the broker holds everything else meanwhile.
            with self._lock:
                self._buffer[:0] = batch
                self._buffered_bytes += sum(len(b[1]) for b in batch)
            return 0
        self._ack(batch)
        self._maybe_sweep()
        return len(batch)

    def _store(self, messages) -> bool:
        """Store one batch (raw or prepared messages). False when the database is unreachable (bad input never
        gets here): logged, then a 2 s pause (cut short when the consumer stops) and a fresh connection."""
        try:
            self.ingestor.process_safely(messages)
            return True
        except Exception:
            logger.exception("iot batch not stored; retrying in 2 s")
            self._stop.wait(2)
            close_old_connections()
            return False

    def _maybe_sweep(self) -> None:
        if time.monotonic() - self.last_sweep >= float(conf.get("NO_DATA_SWEEP_S")):
            self.last_sweep = time.monotonic()
            try:
                self.ingestor.sweep_silent()
            except Exception:
                logger.exception("no-data sweep failed")

    def run_forever(self, *, report_every: float = 60.0) -> None:
        """The consumer's loop, as a two-stage pipeline: this thread takes batches off the buffer and parses
        them (`Ingestor.prepare`) while a writer thread stores the previous batch, acknowledges it after the
        commit and runs the no-data sweep. The hand-over queue holds one batch, so parsing runs at most one
        batch ahead of the database and the broker holds the rest (unacknowledged until stored). Returns
        when stopped, after the writer has finished the batch it holds."""
        if not self.ingestor.loaded_at:
            self.ingestor.reload()
        handover: queue.Queue = queue.Queue(maxsize=1)
        writer = threading.Thread(target=self._write_loop, args=(handover,), name="iot-writer", daemon=True)
        writer.start()
        last_report = time.monotonic()
        try:
            while not self._stop.is_set() and writer.is_alive():
                batch = self._take(None)
                if batch:
                    item = (batch, self.ingestor.prepare(self._messages(batch), reload=False))
                    while writer.is_alive():  # the writer gave up only when stopping
                        try:
                            handover.put(item, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                else:
                    close_old_connections()
                if time.monotonic() - last_report >= report_every:
                    last_report = time.monotonic()
                    logger.info("iot ingest: %s", dict(self.ingestor.stats))
        finally:
            while writer.is_alive():
                try:
                    handover.put(None, timeout=0.5)
                    break
                except queue.Full:
                    continue
            writer.join()

    def _write_loop(self, handover: queue.Queue) -> None:
        try:
            while True:
                try:
                    item = handover.get(timeout=self.flush_s)
                except queue.Empty:
                    close_old_connections()
                    self._maybe_sweep()
                    continue
                if item is None:
                    return
                batch, prepared = item
                # Not stored: the batch stays unacknowledged; try again (from the raw messages) unless stopping.
                while not self._store(prepared):
                    if self._stop.is_set():
                        return
                    prepared = self._messages(batch)
                self._ack(batch)
                self._maybe_sweep()
        finally:
            connection.close()

    def install_signal_handlers(self) -> None:
        def on_signal(signum, frame):
            self._stop.set()
            with self._lock:
                self._lock.notify_all()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)


def consumer_command(stdout=None) -> list[str] | None:
    """For `cityops run`: the command that starts the consumer when a broker is reachable, else None (and
    it says so)."""
    import sys

    broker = BrokerConfig.from_settings()
    if not broker_reachable(broker):
        if stdout is not None:
            stdout.write(f"MQTT broker {broker.host}:{broker.port} 不可达，未启动物联数据接入 / not reachable: "
                         "IoT ingestion not started\n")
        return None
    if stdout is not None:
        stdout.write(f"物联数据接入 / IoT ingestion: MQTT {broker.host}:{broker.port}\n")
    return [sys.executable, "-m", "cityops", "iot", "ingest"]
