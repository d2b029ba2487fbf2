"""L5 media: one background picture per segment (and the brand logo), each written atomically and checked."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from pipeline.context import LayerContext, RecordedAsset
from pipeline.contracts import AssetRole, DataPackage, MediaAsset, MediaPackage, Script, SegmentKind
from pipeline.contracts.l3 import ScriptSegment
from pipeline.errors import ConfigurationError, MediaGenerationError
from pipeline.files import check_image, cover, save_image
from pipeline.layers.l5_media import image_apis, procedural
from pipeline.log_context import ContextThreadPool
from pipeline.registry import LayerInput

DEFAULT_STYLE = {"reel": "arena", "carousel": "arena", "still": "stat"}
# The other looks a job's second and third variants take.
VARIANT_STYLES = {"arena": ["arena", "arena", "energy"], "energy": ["energy", "energy", "stat"],
                  "illustrated": ["illustrated", "illustrated", "arena"], "stat": ["stat", "stat", "arena"]}
JPEG_QUALITY = 90
LOGO_MAX_BYTES = 4 * 1024 * 1024
REFERENCE_MAX_BYTES = 8 * 1024 * 1024


def _colours(segment: ScriptSegment, data: DataPackage) -> tuple[str, str]:
    matchup = data.matchup
    if segment.kind == SegmentKind.PROP and segment.prop_id:
        team = matchup.home if matchup.prop(segment.prop_id).team == matchup.home.abbreviation else matchup.away
        return team.primary_color, team.secondary_color
    if segment.kind == SegmentKind.CTA:
        return matchup.home.primary_color, matchup.away.primary_color
    return matchup.away.primary_color, matchup.home.primary_color


def prompt_for(segment: ScriptSegment, data: DataPackage, style: str) -> str:
    """What an image model is asked for: mood and colours only; text is drawn by the plan, never the model."""
    primary, secondary = _colours(segment, data)
    sport = data.matchup.sport.value.upper()
    subject = {SegmentKind.PROP: f"a dramatic {sport} action scene, a player in motion, seen from behind",
               SegmentKind.MATCHUP: f"two {sport} teams facing off, stadium lights",
               SegmentKind.HOOK: f"an electric {sport} stadium at night", SegmentKind.CTA: "a crowd celebrating"}
    return (f"{subject[segment.kind]}, {style} style, colour palette {primary} and {secondary}, vertical "
            "composition with calm space in the lower third, no text, no logos, no numbers, no watermark")


def _procedural(segment: ScriptSegment, data: DataPackage, style: str, size: tuple[int, int],
                variant: int = 0, alt: int = 0) -> Image.Image:
    """The offline art of a segment; `alt` > 0 is another image of it (the review's "another image")."""
    width, height = size
    seed = f"{data.matchup.id}:{segment.id}" + (f":v{variant}" if variant else "") + (f":alt{alt}" if alt else "")
    style = VARIANT_STYLES.get(style, [style] * 3)[variant]
    if segment.kind == SegmentKind.MATCHUP and style != "stat":
        m = data.matchup
        return procedural.versus(width, height, (m.away.abbreviation, m.away.primary_color, m.away.secondary_color),
                                 (m.home.abbreviation, m.home.primary_color, m.home.secondary_color), seed)
    primary, secondary = _colours(segment, data)
    if (variant == 1) != (alt % 2 == 1):
        primary, secondary = secondary, primary
    if style == "arena":
        return procedural.arena(width, height, primary, secondary, seed, sport=data.matchup.sport.value)
    return procedural.STYLES[style](width, height, primary, secondary, seed)


def _brand_file(ctx: LayerContext, name: str, *, what: str, field: str, limit: int) -> Path:
    """A file the preset names in the brand folder, refused (naming the field) outside it, missing or too big."""
    brand_dir = Path(ctx.options.get("BRAND_DIR", ctx.work_dir)).resolve()
    source = (brand_dir / name).resolve()
    if brand_dir not in source.parents or not source.is_file() or source.stat().st_size > limit:
        raise ConfigurationError(f"{what} {name!r} is not a file of at most {limit // 1_048_576} MB in the brand "
                                 "folder", layer="L5", field=field, hint=f"upload the {what} again on the preset")
    return source


def _references(inputs: LayerInput, ctx: LayerContext) -> list[Path]:
    return [_brand_file(ctx, name, what="reference image", field=f"brand.references.{index}",
                        limit=REFERENCE_MAX_BYTES) for index, name in enumerate(inputs.preset.brand.references)]


def _logo(inputs: LayerInput, ctx: LayerContext) -> MediaAsset | None:
    logo = inputs.preset.brand.logo
    if not logo:
        return None
    source = _brand_file(ctx, logo, what="logo", field="brand.logo", limit=LOGO_MAX_BYTES)
    with Image.open(source) as image:
        if image.format != "PNG":
            raise ConfigurationError(f"logo {logo!r} is {image.format}; a PNG with transparency is expected",
                                     layer="L5", field="brand.logo")
        image.load()
        path = save_image(image.convert("RGBA"), ctx.layer_dir / "logo.png")
    width, height, digest = check_image(path)
    ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind="logo", sha256=digest, width=width, height=height))
    return MediaAsset(segment_id=None, role=AssetRole.LOGO, file=ctx.rel(path), width=width, height=height,
                      sha256=digest)


BADGE_SIDE_AT_1080 = 210


def _badges(inputs: LayerInput, ctx: LayerContext) -> list[MediaAsset]:
    """Each team's crest for the matchup scene, at the size the plan shows it: the brand's own logo of the team
    when the preset has one (brand.team_logos, uploaded on the preset page), else one drawn from the team's
    colours and abbreviation."""
    matchup = inputs.upstream["L1"].matchup
    side = round(inputs.preset.format.width * BADGE_SIDE_AT_1080 / 1080)
    logos = inputs.preset.brand.team_logos
    found = []
    for team in (matchup.away, matchup.home):
        if own := logos.get(team.abbreviation):
            field = f"brand.team_logos.{team.abbreviation}"
            source = _brand_file(ctx, own, what=f"logo of the {team.name}", field=field, limit=LOGO_MAX_BYTES)
            try:
                with Image.open(source) as image:
                    image.load()
                    art = image.convert("RGBA")
            except (OSError, Image.DecompressionBombError) as exc:
                raise ConfigurationError(f"the logo of the {team.full_name} ({own}) does not open ({exc})",
                                         layer="L5", field=field,
                                         hint="upload it again on the preset, or remove it to use the drawn crest"
                                         ) from exc
            art.thumbnail((side, side), Image.LANCZOS)
            square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
            square.alpha_composite(art, ((side - art.width) // 2, (side - art.height) // 2))
        else:
            square = procedural.badge(side, team.abbreviation, team.primary_color, team.secondary_color)
        path = save_image(square, ctx.layer_dir / f"badge_{team.abbreviation}.png")
        width, height, digest = check_image(path)
        ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind="badge", sha256=digest, width=width, height=height,
                                       metadata={"team": team.abbreviation}))
        found.append(MediaAsset(segment_id=None, role=AssetRole.BADGE, file=ctx.rel(path), width=width,
                                height=height, sha256=digest, team=team.abbreviation))
    return found


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise ConfigurationError(f"reference image {path.name!r} does not open ({exc})", layer="L5",
                                 field="brand.references", hint="upload it again on the preset") from exc


def _maker(inputs: LayerInput, ctx: LayerContext) -> Callable[[ScriptSegment, int], Image.Image]:
    """How this preset's pictures are made: `make(segment, alt)`, alt 0 as built, 1, 2, … other images."""
    data: DataPackage = inputs.upstream["L1"]
    choice = inputs.preset.providers.media
    size = (inputs.preset.format.width, inputs.preset.format.height)
    style = choice.options.get("style", DEFAULT_STYLE[inputs.preset.format.kind])
    references = _references(inputs, ctx)
    if choice.name == "procedural":
        if style not in procedural.STYLES:
            raise ConfigurationError(f"unknown procedural style {style!r} (known: {', '.join(procedural.STYLES)})",
                                     layer="L5", field="providers.media.options.style")
        look = procedural.reference_look([_open(path) for path in references]) if references else None

        def make(segment: ScriptSegment, alt: int = 0) -> Image.Image:
            art = _procedural(segment, data, style, size, inputs.job.variant, alt)
            return procedural.apply_look(art, look) if look else art

        return make
    generate = image_apis.provider(choice.name, choice.options, ctx, image_apis.load_references(references))
    # A model asked again for the same prompt answers another picture.
    return lambda segment, alt=0: cover(generate(prompt_for(segment, data, style), size), size)


def _save(inputs: LayerInput, ctx: LayerContext, segment: ScriptSegment, image: Image.Image, name: str) -> MediaAsset:
    size = (inputs.preset.format.width, inputs.preset.format.height)
    path = save_image(image.convert("RGB"), ctx.layer_dir / name, quality=JPEG_QUALITY)
    width, height, digest = check_image(path, size=size)
    ctx.record_asset(RecordedAsset(path=ctx.rel(path), kind="background", sha256=digest, width=width, height=height,
                                   metadata={"segment": segment.id, "provider": inputs.preset.providers.media.name}))
    return MediaAsset(segment_id=segment.id, role=AssetRole.BACKGROUND, file=ctx.rel(path), width=width,
                      height=height, sha256=digest)


def remake(inputs: LayerInput, ctx: LayerContext, segment_id: str, alt: int) -> MediaAsset:
    """Another picture for one segment, kept beside the built ones (L5/alt/<segment>-<alt>.jpg)."""
    script: Script = inputs.upstream["L3"]
    segment = next((s for s in script.segments if s.id == segment_id), None)
    if segment is None:
        raise MediaGenerationError(f"the script has no segment {segment_id!r}", layer="L5", field="scene")
    image = _maker(inputs, ctx)(segment, alt)
    return _save(inputs, ctx, segment, image, f"alt/{segment.id}-{alt}.jpg")


def run(inputs: LayerInput, ctx: LayerContext) -> MediaPackage:
    script: Script = inputs.upstream["L3"]
    make = _maker(inputs, ctx)
    done = 0

    def one(segment: ScriptSegment) -> MediaAsset:
        nonlocal done
        asset = _save(inputs, ctx, segment, make(segment, 0), f"{segment.id}.jpg")
        done += 1
        ctx.progress(done / (len(script.segments) + 1), f"made {segment.id}")
        return asset

    # numpy and Pillow release the GIL for the heavy parts, and the API providers wait on the network.
    with ContextThreadPool(max_workers=min(4, os.cpu_count() or 2)) as pool:
        assets = list(pool.map(one, script.segments))
    if (logo := _logo(inputs, ctx)) is not None:
        assets.append(logo)
    if inputs.preset.format.kind != "still":
        assets += _badges(inputs, ctx)
    if not assets:
        raise MediaGenerationError("no media was made", layer="L5")
    return MediaPackage(assets=assets)
