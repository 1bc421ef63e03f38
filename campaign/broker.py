"""The web side's Redis transport for publishing jobs.

Kombu's Redis channel builds a new ``redis.Redis`` object for every message it
publishes; constructing one (it registers some 170 response callbacks) cost
more CPU than the rest of the publish. This channel builds it once and reuses
it: the client is thread-safe and draws its connections from the channel's pool.
Workers keep kombu's own transport.
"""

from kombu.transport import redis as kombu_redis


class ReusingClientChannel(kombu_redis.Channel):
    _publish_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        if self._publish_client is None:
            self._publish_client = super()._create_client()
        return self._publish_client


class Transport(kombu_redis.Transport):
    Channel = ReusingClientChannel
