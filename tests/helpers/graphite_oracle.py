"""Oracle for tests/server/graphite: carbon 1.1.7's and graphite-web 1.1.8's
own code, run on inputs read as JSON from stdin, answers printed as JSON.

  lines    -> carbon's MetricLineReceiver.lineReceived, then TaggedSeries
  names    -> carbon's TaggedSeries.parse(name).path
  globs    -> graphite-web's match_entries(entries, pattern)
"""
import json
import sys


def lines(items):
    from carbon import events, protocols
    from carbon.util import TaggedSeries

    got = []

    class Receiver(protocols.MetricLineReceiver):
        def __init__(self):
            self.peerName = "oracle"

        def resetTimeout(self):
            pass

    events.metricReceived.handlers = []
    events.metricReceived.addHandler(lambda m, d: got.append((m, d)))
    receiver = Receiver()
    out = []
    for line in items:
        got.clear()
        try:
            receiver.lineReceived(line.encode("utf-8"))
        except Exception as error:
            out.append(["error", type(error).__name__])
            continue
        if not got:
            out.append(["none"])
            continue
        metric, (timestamp, value) = got[0]
        try:
            metric = TaggedSeries.parse(metric).path
        except Exception:
            pass
        out.append(["point", metric, repr(value), timestamp])
    return out


def names(items):
    from carbon.util import TaggedSeries

    out = []
    for name in items:
        try:
            out.append(TaggedSeries.parse(name).path)
        except Exception:
            out.append(name)
    return out


def globs(items):
    from graphite.finders import match_entries

    return [sorted(match_entries(entries, pattern)) for pattern, entries in items]


if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps(globals()[request["kind"]](request["items"])))
