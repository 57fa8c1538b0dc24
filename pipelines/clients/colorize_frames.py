#!/usr/bin/python3
"""Colorizes a video from Python through GStreamer's introspection bindings.

The application holds the frames: it decodes INPUT to gray frames
(uridecodebin ! appsink), hands each one to cgancolorizebin through an appsrc,
takes the colour frames back from an appsink and writes every Nth as a
binary PPM (OUT/frame-000000.ppm ...), with no library beyond python3-gi.

  colorize_frames.py [--model FILE] [--every N] [--max-frames N] INPUT OUT

Needs python3-gi, gir1.2-gstreamer-1.0, gir1.2-gst-plugins-base-1.0 and the
colorgan plugin on GST_PLUGIN_PATH.
"""
import argparse
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst  # noqa: E402


def fail(message):
    print(f"colorize_frames.py: {message}", file=sys.stderr)
    sys.exit(1)


def element(factory, **properties):
    made = Gst.ElementFactory.make(factory, None)
    if made is None:
        fail(f"no GStreamer element '{factory}' (is GST_PLUGIN_PATH set to colorgan's build/plugins?)")
    for name, value in properties.items():
        made.set_property(name, value)
    return made


def pipeline_of(*elements):
    pipeline = Gst.Pipeline.new(None)
    for e in elements:
        pipeline.add(e)
    return pipeline


def check_bus(pipeline, what):
    message = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
    if message is not None:
        error, debug = message.parse_error()
        fail(f"{what}: {error.message}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="a video or image file GStreamer can decode")
    parser.add_argument("out", help="folder for the colour frames (PPM)")
    parser.add_argument("--model", help="model file (default: the project's default model)")
    parser.add_argument("--every", type=int, default=1, help="write every Nth frame (default 1)")
    parser.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0: all)")
    args = parser.parse_args()
    if not os.path.isfile(args.input):
        fail(f"cannot read {args.input}")
    if args.every < 1 or args.max_frames < 0:
        fail("--every must be at least 1 and --max-frames at least 0")
    os.makedirs(args.out, exist_ok=True)
    Gst.init(None)

    # Decoding: the file name goes in as a property (a URI), never into a pipeline description.
    decode = element("uridecodebin", uri=Gst.filename_to_uri(os.path.abspath(args.input)))
    convert = element("videoconvert")
    gray_sink = element("appsink", caps=Gst.Caps.from_string("video/x-raw,format=GRAY8"), sync=False,
                        max_buffers=4, drop=False)
    decoder = pipeline_of(decode, convert, gray_sink)
    convert.link(gray_sink)
    decode.connect("pad-added", lambda _, pad: pad.link(convert.get_static_pad("sink"))
                   if pad.query_caps(None).to_string().startswith("video/") else None)

    # Colorizing: appsrc ! cgancolorizebin ! videoconvert ! RGB appsink.
    source = element("appsrc", format=Gst.Format.TIME, block=True)
    colorize = element("cgancolorizebin")
    if args.model:
        colorize.set_property("model", args.model)
    to_rgb = element("videoconvert")
    rgb_sink = element("appsink", caps=Gst.Caps.from_string("video/x-raw,format=RGB"), sync=False)
    colorizer = pipeline_of(source, colorize, to_rgb, rgb_sink)
    if not (source.link(colorize) and colorize.link(to_rgb) and to_rgb.link(rgb_sink)):
        fail("cannot link appsrc ! cgancolorizebin ! videoconvert ! appsink")

    decoder.set_state(Gst.State.PLAYING)
    colorizer.set_state(Gst.State.PLAYING)
    frames = written = 0
    while args.max_frames == 0 or frames < args.max_frames:
        sample = gray_sink.emit("try-pull-sample", 30 * Gst.SECOND)
        if sample is None:
            check_bus(decoder, "decoding " + args.input)
            break
        if frames == 0:
            source.set_property("caps", sample.get_caps())
        source.emit("push-buffer", sample.get_buffer())
        colour = rgb_sink.emit("try-pull-sample", 30 * Gst.SECOND)
        if colour is None:
            check_bus(colorizer, "colorizing")
            fail("no colour frame came back")
        if frames % args.every == 0:
            structure = colour.get_caps().get_structure(0)
            width, height = structure.get_value("width"), structure.get_value("height")
            buffer = colour.get_buffer()
            ok, mapped = buffer.map(Gst.MapFlags.READ)
            if not ok:
                fail("cannot map a colour frame")
            stride = (width * 3 + 3) // 4 * 4  # GStreamer's RGB rows are padded to 4 bytes
            rows = b"".join(mapped.data[y * stride:y * stride + width * 3] for y in range(height))
            buffer.unmap(mapped)
            with open(os.path.join(args.out, f"frame-{frames:06d}.ppm"), "wb") as f:
                f.write(b"P6\n%d %d\n255\n" % (width, height) + rows)
            written += 1
        frames += 1
    source.emit("end-of-stream")
    decoder.set_state(Gst.State.NULL)
    colorizer.set_state(Gst.State.NULL)
    if frames == 0:
        fail(f"no video frames in {args.input}")
    print(f"colorized {frames} frames, wrote {written} to {args.out}")


if __name__ == "__main__":
    main()
