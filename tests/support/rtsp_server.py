"""A GStreamer RTSP server serving a live test pattern; run under Debian's /usr/bin/python3 (where `gi` lives).

    /usr/bin/python3 tests/support/rtsp_server.py --port 8554 --mount /cam

Prints ``ready rtsp://127.0.0.1:PORT/MOUNT`` on stdout once it accepts clients; SIGTERM or SIGINT stop it.
Only RTP over TCP is offered unless ``--udp`` is given, so a client that cannot fall back to TCP fails loudly.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi  # type: ignore[import-not-found]  # Debian python3-gi, not in the venv

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402


def launch_line(width: int, height: int, fps: int) -> str:
    return (
        "( videotestsrc is-live=true pattern=ball "
        f"! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
        "! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26 )"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", default="/cam")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--udp", action="store_true", help="also offer RTP over UDP")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args.width, args.height, args.fps))
    factory.set_shared(True)
    protocols = GstRtsp.RTSPLowerTrans.TCP
    if args.udp:
        protocols |= GstRtsp.RTSPLowerTrans.UDP
    factory.set_protocols(protocols)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}")

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"ready rtsp://127.0.0.1:{args.port}{args.mount}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
