"""The colours of L6's video as Chromium's own <video> element decodes and shows them (issue 24): what the
platforms' players and the desk's browsers do with a BT.709-tagged HD stream."""
import numpy as np

from pipeline.render.quality import delta_e
from tests.pipeline.test_platform_files import BRAND, render_brand_reel

PAGE = "http://media.test/"
READ = """async ([t, x, y]) => {
  const video = document.querySelector("video");
  if (video.readyState < 1) await new Promise((ok) => video.addEventListener("loadedmetadata", ok, {once: true}));
  await new Promise((ok) => { video.addEventListener("seeked", ok, {once: true}); video.currentTime = t; });
  // "seeked" can come before the decoder has handed over the new frame; a paused element does not say when it
  // has, so the frame is read until it holds still.
  await new Promise((ok) => setTimeout(ok, 200));
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const context = canvas.getContext("2d", {colorSpace: "srgb"});
  context.drawImage(video, 0, 0);
  const pixels = context.getImageData(x, y, 100, 100).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 4) { sum[0] += pixels[i]; sum[1] += pixels[i + 1]; sum[2] += pixels[i + 2]; }
  return sum.map((v) => v / (pixels.length / 4));
}"""


def reference_reel(out, seconds=0.8):
    """The same colours encoded by FFmpeg's own BT.709 conversion, independently of L6: what Chromium shows for
    it is the best any BT.709 file can show there."""
    from pipeline.media import ffmpeg

    inputs = [arg for colour in BRAND for arg in
              ("-f", "lavfi", "-i", f"color=c=0x{colour[1:]}:s=1080x1920:r=30:d={seconds}")]
    joined = "".join(f"[{i}]" for i in range(len(BRAND)))
    ffmpeg.run(["-y", *inputs, "-filter_complex",
                f"{joined}concat=n={len(BRAND)}:v=1:a=0,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
                "-c:v", "libx264", "-crf", "4", "-colorspace", "bt709", "-color_primaries", "bt709",
                "-color_trc", "bt709", "-color_range", "tv", str(out)])
    return out


def shown_in_chromium(browser, video: bytes, times: list[float]) -> list[np.ndarray]:
    page = browser.new_page()
    try:
        page.route(PAGE + "reel.mp4", lambda route: route.fulfill(status=200, body=video, content_type="video/mp4"))
        page.route(PAGE, lambda route: route.fulfill(
            status=200, content_type="text/html", body='<video muted preload="auto"></video>'))
        page.goto(PAGE)
        assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.640028\"')"), \
            "this Chromium cannot play H.264"
        # Played from memory, as a blob: seekable without a server that answers ranges.
        page.evaluate("""async () => { const blob = await (await fetch("reel.mp4")).blob();
                                        document.querySelector("video").src = URL.createObjectURL(blob); }""")
        return [np.array(page.evaluate(READ, [t, 490, 900])) for t in times]
    finally:
        page.close()


def test_chromium_plays_the_brand_colours_as_approved(browser, tmp_path):
    """given: a reel of flat brand-colour scenes from L6
    when: Chromium's <video> element plays it, and each scene's middle is drawn to a canvas and read back
    then: each colour is within ΔE 2 of the brand's hex value, or no further off than Chromium shows FFmpeg's own
    BT.709 encoding of it (BT.601 pixels untagged played 5-17 ΔE off; Chromium's software YUV conversion shows a
    dark saturated blue like #00338D about 2.5 off whoever encoded it)"""
    plan, out = render_brand_reel(tmp_path)
    times = [(index + 0.5) * 0.8 for index in range(len(BRAND))]
    ours = shown_in_chromium(browser, out.read_bytes(), times)
    best = shown_in_chromium(browser, reference_reel(tmp_path / "reference.mp4").read_bytes(), times)
    for colour, shown, possible in zip(BRAND, ours, best, strict=True):
        wanted = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        assert delta_e(shown, wanted) <= max(2.0, delta_e(possible, wanted)), \
            f"{colour} shows as {shown.round()} in Chromium (ΔE {delta_e(shown, wanted):.1f}; FFmpeg's own encoding " \
            f"shows as {possible.round()}, ΔE {delta_e(possible, wanted):.1f})"
