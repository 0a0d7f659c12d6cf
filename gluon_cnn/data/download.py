"""Downloads that try several sources and never leave a half-written file behind.

Each source names its own checksum: mirrors repack archives, so one file's digest does not
fit another's. A file is streamed to a temporary name beside its destination, hashed on
the way, and renamed only once its checksum matches; a failed source (no network, an HTTP
error, a dropped connection, a wrong checksum) is logged in one line and the next one
tried.
"""
import collections
import glob
import hashlib
import logging
import os
import sys
import urllib.error
import urllib.request

from tqdm import tqdm

from ..errors import UserError
from ..paths import file_digest

log = logging.getLogger(__name__)

Source = collections.namedtuple("Source", "name url algorithm digest")
CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60


class SourceFailed(Exception):
    """One source could not deliver the file; the message says why."""


class _Progress:
    """A tqdm bar (bytes, rate, time left) on a terminal, else a log line every 10%."""

    def __init__(self, name, total):
        self.name, self.total, self.done, self.logged = name, total, 0, 0
        self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                        desc=name, leave=False, disable=not sys.stderr.isatty())

    def update(self, count):
        self.done += count
        self.bar.update(count)
        if self.bar.disable and self.total:
            tenths = self.done * 10 // self.total
            if tenths > self.logged:
                self.logged = tenths
                log.info("%s: %d%% of %.1f MiB", self.name, tenths * 10, self.total / 2 ** 20)

    def close(self):
        self.bar.close()


def _download_one(source, temporary):
    """Stream ``source`` into ``temporary``; raise SourceFailed with the reason."""
    digest = hashlib.new(source.algorithm)
    try:
        with urllib.request.urlopen(source.url, timeout=TIMEOUT_SECONDS) as response, \
                open(temporary, "wb") as handle:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            progress = _Progress(os.path.basename(source.url), total)
            try:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    handle.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
            finally:
                progress.close()
            if total is not None and progress.done != total:
                raise SourceFailed("the connection closed after %d of %d bytes"
                                   % (progress.done, total))
    except urllib.error.HTTPError as err:
        raise SourceFailed("HTTP %d %s" % (err.code, err.reason)) from None
    except urllib.error.URLError as err:
        raise SourceFailed(str(getattr(err, "reason", err))) from None
    except (OSError, ValueError) as err:  # dropped connections, timeouts, bad URLs
        raise SourceFailed(str(err) or type(err).__name__) from None
    if digest.hexdigest() != source.digest:
        raise SourceFailed("wrong %s checksum (%s, expected %s)"
                           % (source.algorithm, digest.hexdigest(), source.digest))


def fetch(sources, destination, how_to_get_it):
    """Download ``destination`` from the first of ``sources`` that delivers it intact, or
    keep it if it is already there with one source's checksum; returns the source used.
    When every source fails, one UserError names each with its reason, then
    ``how_to_get_it``."""
    folder = os.path.dirname(os.path.abspath(destination))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise UserError("cannot create %s for the download (%s); choose another --data-dir."
                        % (folder, err.strerror or err)) from None
    if os.path.isfile(destination):
        for source in sources:
            if file_digest(destination, source.algorithm) == source.digest:
                return source
        log.warning("%s does not match any known checksum; downloading it again", destination)
    # what an interrupted earlier download left: never data, always safe to remove
    for stale in glob.glob(os.path.join(folder, ".%s.part-*" % os.path.basename(destination))):
        os.remove(stale)
    temporary = os.path.join(folder, ".%s.part-%d" % (os.path.basename(destination),
                                                       os.getpid()))
    failures = []
    for source in sources:
        log.info("downloading %s from %s (%s)", os.path.basename(destination), source.name,
                 source.url)
        try:
            _download_one(source, temporary)
        except SourceFailed as err:
            log.warning("%s failed: %s", source.name, err)
            failures.append("%s (%s): %s" % (source.name, source.url, err))
            if os.path.exists(temporary):
                os.remove(temporary)
            continue
        except BaseException:  # Ctrl-C or a crash mid-download: no partial file stays
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        os.replace(temporary, destination)
        return source
    raise UserError("could not download %s; tried %s. %s" % (
        os.path.basename(destination), "; ".join(failures), how_to_get_it))


__all__ = ["Source", "SourceFailed", "fetch", "file_digest"]
