"""edge-runtime: real-time AI stream processing on small devices."""

import os

# OpenCV and its FFmpeg backend print to stderr on every failed camera open unless told not to; set before
# anything imports cv2. A user's own setting wins.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
