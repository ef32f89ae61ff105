"""Demo catalogue: products a shop like ours would sell, at prices that fit them, with pictures
drawn here by Pillow (nothing is downloaded).

Each category lists products as (name, price in USD, description); a product may come in
variants (a size, a material), each with its own price factor. The catalogue is deterministic:
the same arguments give the same products, prices and stock.
"""
from __future__ import annotations

import io
import math
import random
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .models import Category, Product

# (category, colour, [(product, price, description, [(variant, price factor), ...]), ...])
CATALOGUE: list[tuple[str, str, list[tuple[str, str, str, list[tuple[str, str]]]]]] = [
    ("Kitchen", "#9c4a2f", [
        ("Chef's knife", "89.00", "Forged stainless steel with a full tang and an oiled walnut handle. Holds its "
         "edge through months of daily chopping.", [("20 cm", "1"), ("24 cm", "1.15")]),
        ("Cast-iron skillet", "54.00", "Pre-seasoned, oven-safe and at home on any hob, induction included. Gets "
         "better with every meal.", [("26 cm", "1"), ("30 cm", "1.2")]),
        ("End-grain cutting board", "72.00", "Oiled oak end grain that is kind to knife edges. Rubber feet keep it "
         "steady on the worktop.", [("medium", "1"), ("large", "1.35")]),
        ("Pepper mill", "34.00", "A ceramic grinder you adjust from fine to coarse with a turn of the knob.",
         [("beech", "1"), ("walnut", "1.25")]),
        ("Stovetop kettle", "59.00", "Brushed steel with a whistle you can hear from the next room and a handle "
         "that stays cool.", [("1.5 litre", "1"), ("2 litre", "1.15")]),
        ("Spice jar set", "28.00", "Six glass jars with bamboo lids and blank labels for your own writing.",
         [("of 6", "1"), ("of 12", "1.7")]),
        ("Linen tea towels", "18.00", "Stonewashed linen that dries glasses without lint. Softer with every wash.",
         [("set of 2", "1"), ("set of 4", "1.8")]),
        ("Enamel saucepan", "46.00", "A light enamelled steel pan with a pouring lip, for sauces, porridge and "
         "milk.", [("16 cm", "1"), ("20 cm", "1.2")]),
        ("Wooden spoon set", "22.00", "Three olive-wood spoons for stirring, tasting and serving.",
         [("of 3", "1"), ("of 5", "1.5")]),
        ("Glass storage jars", "32.00", "Clip-top jars with a rubber seal that keeps flour, pasta and coffee fresh.",
         [("set of 3", "1"), ("set of 6", "1.8")]),
    ]),
    ("Garden", "#3f7a3a", [
        ("Bypass pruning shears", "38.00", "Hardened steel blades that cut cleanly through stems up to 2 cm, with a "
         "one-hand safety catch.", [("standard", "1"), ("left-handed", "1.05")]),
        ("Galvanised watering can", "42.00", "A long spout and a removable brass rose for a gentle shower.",
         [("5 litre", "1"), ("9 litre", "1.3")]),
        ("Seed tray set", "16.00", "Sturdy, reusable trays with drainage holes and clear lids.",
         [("of 3", "1"), ("of 6", "1.75")]),
        ("Leather garden gloves", "24.00", "Goatskin palms against thorns and cotton backs that breathe.",
         [("medium", "1"), ("large", "1")]),
        ("Hose nozzle", "19.00", "Seven spray patterns, from mist to jet, on a grip that locks open.",
         [("standard", "1"), ("with brass fitting", "1.4")]),
        ("Terracotta plant pot", "14.00", "Unglazed, frost-resistant clay with a saucer. Lets roots breathe.",
         [("15 cm", "1"), ("25 cm", "1.9")]),
        ("Hand trowel", "21.00", "A stainless steel blade marked with planting depths, on an ash handle.",
         [("narrow", "1"), ("wide", "1.05")]),
        ("Garden kneeler", "29.00", "A dense foam pad on a steel frame; turn it over and it is a low seat.",
         [("standard", "1"), ("with tool pouch", "1.25")]),
        ("Jute twine", "8.50", "Natural twine for tying up beans, tomatoes and sweet peas.",
         [("100 m", "1"), ("250 m", "2")]),
        ("Wooden plant labels", "7.00", "Birch labels you write on in pencil; they weather rather than rot.",
         [("pack of 50", "1"), ("pack of 100", "1.7")]),
    ]),
    ("Books", "#6b4f8f", [
        ("Field guide to garden birds", "24.00", "Five hundred colour illustrations, and the songs described in "
         "words.", [("paperback", "1"), ("hardback", "1.4")]),
        ("Seasonal vegetable cookbook", "32.00", "A year of recipes that start from what is in the market.",
         [("paperback", "1"), ("hardback", "1.35")]),
        ("Travel journal", "19.00", "Dot-grid pages, a pocket for tickets and a ribbon to keep your place.",
         [("A6", "1"), ("A5", "1.25")]),
        ("Collected poems", "18.00", "A century of short poems about home, chosen and introduced by their editor.",
         [("paperback", "1"), ("hardback", "1.5")]),
        ("World atlas", "45.00", "Up-to-date physical and political maps, with an index of 60,000 places.",
         [("concise", "1"), ("comprehensive", "1.6")]),
        ("Beginner's sketchbook", "16.00", "Heavy cartridge paper that takes pencil, ink and a light wash.",
         [("A5", "1"), ("A4", "1.4")]),
        ("Guide to woodland walks", "21.00", "Forty circular walks, with maps, distances and where to stop for tea.",
         [("paperback", "1"), ("hardback", "1.45")]),
        ("Bread baking handbook", "28.00", "From a first sandwich loaf to sourdough, step by step with photographs.",
         [("paperback", "1"), ("hardback", "1.35")]),
        ("Night sky atlas", "26.00", "Star charts for every month, readable by red torchlight.",
         [("paperback", "1"), ("spiral-bound", "1.15")]),
        ("Children's picture dictionary", "17.00", "A thousand everyday words, each with a picture.",
         [("paperback", "1"), ("board book", "1.2")]),
    ]),
    ("Stationery", "#2f5f8f", [
        ("Fountain pen", "48.00", "A steel nib that glides, a piston converter and a brass cap.",
         [("fine nib", "1"), ("medium nib", "1")]),
        ("Dot-grid notebook", "14.00", "192 numbered pages of fountain-pen-friendly paper that lies flat.",
         [("A5", "1"), ("A4", "1.3")]),
        ("Desk organiser", "36.00", "Oiled oak compartments for pens, cards and the things that wander.",
         [("small", "1"), ("large", "1.45")]),
        ("Graphite pencil set", "12.00", "Cedar pencils in grades from 2H to 6B, in a tin.",
         [("of 6", "1"), ("of 12", "1.6")]),
        ("Bottled ink", "15.00", "A water-based ink that flows well and washes out of most fabrics.",
         [("blue-black", "1"), ("sepia", "1")]),
        ("Brass letter opener", "22.00", "Solid brass that darkens to a warm patina with use.",
         [("plain", "1"), ("engraved", "1.3")]),
        ("Washi tape set", "9.50", "Paper tape in muted colours that peels off without tearing.",
         [("of 5", "1"), ("of 10", "1.7")]),
        ("Cotton-paper envelopes", "11.00", "Heavy envelopes that take a wax seal and stay flat in the post.",
         [("pack of 25", "1"), ("pack of 50", "1.8")]),
        ("Leather pencil case", "27.00", "Vegetable-tanned leather with a zip and room for a dozen pens.",
         [("tan", "1"), ("black", "1")]),
        ("Weekly desk planner", "18.00", "Undated tear-off sheets, one week a page, with space for notes.",
         [("A4", "1"), ("A3", "1.4")]),
    ]),
    ("Outdoors", "#2f7a6b", [
        ("Enamel camping mug", "14.00", "Light, tough and fine over a camp stove.", [("350 ml", "1"), ("500 ml", "1.2")]),
        ("Rechargeable headlamp", "39.00", "300 lumens, a red night mode and a charge that lasts a weekend.",
         [("standard", "1"), ("with spare battery", "1.35")]),
        ("Trail backpack", "89.00", "A ventilated back, hip belt and rain cover for long days on the hill.",
         [("22 litre", "1"), ("32 litre", "1.25")]),
        ("Insulated water bottle", "29.00", "Keeps water cold for a day and tea hot for twelve hours.",
         [("500 ml", "1"), ("750 ml", "1.15")]),
        ("Baseplate compass", "24.00", "Liquid-filled, with a sighting mirror and map scales.",
         [("standard", "1"), ("with clinometer", "1.4")]),
        ("Packable rain poncho", "32.00", "Waterproof, covers you and your pack, folds into its own pocket.",
         [("adult", "1"), ("child", "0.75")]),
        ("Folding camp stool", "26.00", "An aluminium frame and canvas seat that weighs less than a kilo.",
         [("standard", "1"), ("tall", "1.2")]),
        ("Wool hiking socks", "19.00", "Merino blend with a cushioned sole that stays dry and fresh.",
         [("medium", "1"), ("large", "1")]),
        ("Picnic blanket", "45.00", "Soft wool on top and a waterproof backing underneath; rolls up with a strap.",
         [("standard", "1"), ("large", "1.3")]),
        ("First-aid kit", "27.00", "Plasters, dressings, tape and a foil blanket in a bright pouch.",
         [("day-walk", "1"), ("expedition", "1.8")]),
    ]),
    ("Home", "#8f6a2f", [
        ("Merino wool throw", "119.00", "Woven in a small mill; warm, light and soft enough for the sofa.",
         [("oatmeal", "1"), ("charcoal", "1")]),
        ("Ceramic table lamp", "95.00", "A hand-glazed base with a linen shade that gives a warm light.",
         [("small", "1"), ("large", "1.3")]),
        ("Linen cushion cover", "34.00", "Stonewashed linen with a hidden zip.", [("45 cm", "1"), ("60 cm", "1.3")]),
        ("Wall clock", "58.00", "A silent sweep movement behind a clear, easy-to-read face.",
         [("30 cm", "1"), ("40 cm", "1.3")]),
        ("Coir door mat", "29.00", "Coconut fibre that scrapes boots clean, on a non-slip backing.",
         [("standard", "1"), ("wide", "1.4")]),
        ("Soy wax candle", "24.00", "Hand-poured, with a cotton wick and about 40 hours of burning.",
         [("fig", "1"), ("cedar", "1")]),
        ("Stoneware vase", "39.00", "A speckled glaze and a narrow neck for a few stems.",
         [("short", "1"), ("tall", "1.35")]),
        ("Cotton bath mat", "27.00", "Thick loops that dry quickly; machine washable.", [("standard", "1"), ("large", "1.3")]),
        ("Woven storage basket", "36.00", "Seagrass with handles, for blankets, toys or logs.",
         [("medium", "1"), ("large", "1.35")]),
        ("Picture frame", "22.00", "Solid oak with real glass and a mount.", [("A4", "1"), ("A3", "1.45")]),
    ]),
    ("Toys", "#b0472f", [
        ("Wooden building blocks", "39.00", "Beech blocks in four shapes, sanded smooth and finished with a "
         "child-safe oil.", [("set of 50", "1"), ("set of 100", "1.7")]),
        ("Diamond kite", "24.00", "Ripstop sail and a fibreglass frame that flies in light winds.",
         [("standard", "1"), ("large", "1.4")]),
        ("Jigsaw puzzle", "22.00", "Thick card pieces that fit snugly; a map of the world's rivers.",
         [("500 pieces", "1"), ("1,000 pieces", "1.3")]),
        ("Spinning top", "9.00", "Turned from beech; spins for over a minute with practice.",
         [("small", "1"), ("large", "1.4")]),
        ("Marble run", "49.00", "Forty wooden pieces and twenty glass marbles to build a new run every time.",
         [("starter", "1"), ("deluxe", "1.6")]),
        ("Family board game", "34.00", "A game of trading and building for two to five players, aged eight and up.",
         [("standard", "1"), ("with expansion", "1.45")]),
        ("Wooden train set", "59.00", "Track, a bridge, a station and a magnetic engine with two carriages.",
         [("starter", "1"), ("large", "1.7")]),
        ("Plush bear", "26.00", "Soft, washable and made to be carried everywhere.", [("small", "1"), ("large", "1.5")]),
        ("Skipping rope", "11.00", "Wooden handles and a cotton rope, adjustable to any height.",
         [("child", "1"), ("adult", "1.15")]),
        ("Watercolour paint set", "18.00", "Twelve bright colours in half pans, with a brush.",
         [("12 colours", "1"), ("24 colours", "1.6")]),
    ]),
    ("Music", "#4a4f8f", [
        ("Diatonic harmonica", "34.00", "Ten holes, a stainless cover and a clear, bright tone.",
         [("key of C", "1"), ("key of G", "1")]),
        ("Acoustic guitar strings", "12.00", "Phosphor bronze strings that stay in tune and sound warm.",
         [("light", "1"), ("medium", "1")]),
        ("Mechanical metronome", "45.00", "A wind-up pendulum from 40 to 208 beats a minute, with a bell.",
         [("walnut", "1"), ("black", "1")]),
        ("Soprano ukulele", "69.00", "Mahogany top, back and sides; comes with a padded bag.",
         [("soprano", "1"), ("concert", "1.25")]),
        ("Tambourine", "22.00", "Double row of jingles and a natural skin head.", [("20 cm", "1"), ("25 cm", "1.2")]),
        ("Folding music stand", "29.00", "Steel and sturdy, and folds into a bag for rehearsals.",
         [("standard", "1"), ("heavy-duty", "1.5")]),
        ("Clip-on tuner", "18.00", "Tunes guitar, ukulele, bass and violin from the headstock.",
         [("standard", "1"), ("rechargeable", "1.4")]),
        ("Cajón", "119.00", "A birch box drum with snare wires for a crisp slap.", [("standard", "1"), ("compact", "0.85")]),
        ("Descant recorder", "16.00", "Baroque fingering and a clear, sweet tone.", [("plastic", "1"), ("pearwood", "3")]),
        ("Guitar capo", "15.00", "A quick-release spring capo that does not pull strings out of tune.",
         [("acoustic", "1"), ("classical", "1")]),
    ]),
    ("Bath", "#2f7f8f", [
        ("Cotton bath towel", "32.00", "Heavy, absorbent organic cotton that stays soft wash after wash.",
         [("70 × 140 cm", "1"), ("100 × 150 cm", "1.35")]),
        ("Olive oil soap", "7.50", "Cold-processed, unscented and gentle on sensitive skin.", [("single", "1"), ("pack of 3", "2.6")]),
        ("Wooden bath brush", "19.00", "Natural bristles on a long beech handle for hard-to-reach places.",
         [("standard", "1"), ("soft", "1")]),
        ("Waffle bath mat", "26.00", "A deep waffle weave that dries quickly between showers.",
         [("standard", "1"), ("large", "1.3")]),
        ("Shower caddy", "34.00", "Rust-proof steel that hangs over the shower head.", [("standard", "1"), ("double", "1.4")]),
        ("Natural loofah", "6.00", "A whole dried gourd for a gentle scrub.", [("single", "1"), ("pack of 3", "2.5")]),
        ("Linen bathrobe", "89.00", "Light, quick-drying linen with deep pockets.", [("S/M", "1"), ("L/XL", "1")]),
        ("Bamboo toothbrush", "4.50", "A compostable handle with soft bristles.", [("single", "1"), ("pack of 4", "3.4")]),
        ("Bath salts", "14.00", "Magnesium salts with a little lavender oil.", [("250 g", "1"), ("500 g", "1.7")]),
        ("Ceramic soap dish", "12.00", "A slatted dish that lets the soap dry between uses.", [("white", "1"), ("sage", "1")]),
    ]),
    ("Tools", "#5a5f6b", [
        ("Claw hammer", "29.00", "A forged head balanced on a hickory handle.", [("16 oz", "1"), ("20 oz", "1.1")]),
        ("Screwdriver set", "34.00", "Eight hardened tips, flat and cross-head, with cushioned grips.",
         [("of 8", "1"), ("of 12", "1.35")]),
        ("Tape measure", "16.00", "A rigid blade that reaches across a room, with a belt clip.",
         [("5 m", "1"), ("8 m", "1.25")]),
        ("Spirit level", "24.00", "Aluminium body with three vials, accurate to 0.5 mm per metre.",
         [("60 cm", "1"), ("120 cm", "1.5")]),
        ("Hand saw", "32.00", "Induction-hardened teeth for a fast, clean cut in timber.", [("45 cm", "1"), ("55 cm", "1.15")]),
        ("Utility knife", "14.00", "A retractable blade, a lock and five spare blades in the handle.",
         [("standard", "1"), ("heavy-duty", "1.4")]),
        ("Adjustable spanner", "21.00", "Chrome vanadium jaws that open wide and hold steady.",
         [("20 cm", "1"), ("30 cm", "1.3")]),
        ("Combination pliers", "19.00", "Grip, bend and cut wire with one tool.", [("18 cm", "1"), ("20 cm", "1.1")]),
        ("Wood chisel set", "49.00", "Four bevel-edged chisels in a canvas roll.", [("of 4", "1"), ("of 6", "1.4")]),
        ("Cordless drill", "119.00", "18 V, two speeds and two batteries, with a case.", [("standard", "1"), ("with bit set", "1.2")]),
    ]),
    ("Pets", "#8f4a6b", [
        ("Rope dog lead", "24.00", "Braided climbing rope with a brass clip, soft on the hands.",
         [("1.2 m", "1"), ("1.8 m", "1.15")]),
        ("Cat bed", "42.00", "A raised felt bed with a washable cushion.", [("standard", "1"), ("large", "1.3")]),
        ("Stoneware food bowl", "18.00", "Heavy enough not to slide, and dishwasher safe.",
         [("small", "1"), ("large", "1.3")]),
        ("Rubber chew toy", "12.00", "Natural rubber that bounces unpredictably; fill it with treats.",
         [("small", "1"), ("large", "1.3")]),
        ("Grooming brush", "16.00", "Pins on one side for tangles, bristles on the other for shine.",
         [("short coat", "1"), ("long coat", "1")]),
        ("Bird feeder", "28.00", "A metal seed feeder with four perches that squirrels find hard to raid.",
         [("standard", "1"), ("large", "1.35")]),
        ("Dog bed", "69.00", "A firm orthopaedic base with a removable, washable cover.",
         [("medium", "1"), ("large", "1.3")]),
        ("Cat scratching post", "39.00", "Sisal rope on a heavy base that does not tip.", [("60 cm", "1"), ("90 cm", "1.4")]),
        ("Reflective dog collar", "15.00", "Padded and reflective for walks after dark.", [("medium", "1"), ("large", "1.1")]),
        ("Pet travel bowl", "11.00", "Folds flat into a pocket; holds water or food.", [("single", "1"), ("pair", "1.8")]),
    ]),
    ("Sport", "#2f6b4a", [
        ("Speed skipping rope", "16.00", "Ball-bearing handles and an adjustable steel cable.",
         [("standard", "1"), ("weighted", "1.5")]),
        ("Yoga mat", "48.00", "Natural rubber with a grippy top; does not slip when you sweat.",
         [("4 mm", "1"), ("6 mm", "1.2")]),
        ("Tennis balls", "9.00", "Pressurised balls for all court surfaces.", [("tube of 3", "1"), ("tube of 4", "1.25")]),
        ("Cotton sweatbands", "8.00", "Terry towelling wristbands that soak up sweat.", [("pair", "1"), ("set with headband", "1.6")]),
        ("Foam roller", "28.00", "Firm foam for sore muscles after a run.", [("30 cm", "1"), ("45 cm", "1.25")]),
        ("Digital stopwatch", "19.00", "Lap times to a hundredth of a second, and water-resistant.",
         [("standard", "1"), ("with 100 laps memory", "1.4")]),
        ("Resistance bands", "22.00", "Five latex bands from light to extra heavy, with a bag.",
         [("set of 3", "1"), ("set of 5", "1.4")]),
        ("Cork yoga block", "18.00", "Dense, natural cork that stays put.", [("single", "1"), ("pair", "1.8")]),
        ("Kettlebell", "45.00", "Cast iron with a powder-coated handle.", [("8 kg", "1"), ("12 kg", "1.35")]),
        ("Football", "29.00", "A hand-stitched match ball, size 5.", [("size 4", "0.9"), ("size 5", "1")]),
    ]),
]
STOCK_LEVELS = [0, 3, 8, 15, 25, 40, 60, 100]
CENT = Decimal("0.01")


def shop_price(base: str, factor: str) -> Decimal:
    """A price as a shop writes it: the base times the variant's factor, ending in .00, .50 or .95."""
    raw = Decimal(base) * Decimal(factor)
    if raw < 10:
        return max((raw * 2).quantize(Decimal("1"), ROUND_HALF_UP) / 2, Decimal("0.50")).quantize(CENT)
    whole = raw.quantize(Decimal("1"), ROUND_HALF_UP)
    return (whole - Decimal("0.05")) if whole % 5 == 0 else whole.quantize(CENT)


def _mix(colour: str, other: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(round(c + (o - c) * amount) for c, o in zip(rgb, other, strict=True))


def _draw_motif(draw: ImageDraw.ImageDraw, category: str, box: tuple[int, int, int, int], ink, light) -> None:
    """A simple picture of the category, drawn with shapes."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = x0 + w / 2, y0 + h / 2
    line = int(max(3, w // 30))
    kind = category.split()[0]
    if kind == "Kitchen":  # a pan with a handle
        draw.ellipse((cx - w * .3, cy - h * .3, cx + w * .3, cy + h * .3), outline=ink, width=line * 2, fill=light)
        draw.rounded_rectangle((cx + w * .28, cy - h * .05, x1, cy + h * .05), radius=line, fill=ink)
    elif kind == "Garden":  # a leaf
        draw.ellipse((cx - w * .35, cy - h * .2, cx + w * .35, cy + h * .2), fill=light, outline=ink, width=line)
        draw.line((cx - w * .4, cy + h * .05, cx + w * .35, cy - h * .02), fill=ink, width=line)
    elif kind == "Books":  # three books on a shelf
        for i, tilt in enumerate((0, 0, .08)):
            left = x0 + w * (.18 + i * .22)
            draw.polygon([(left, y1 - h * .15), (left + w * .18, y1 - h * .15),
                          (left + w * (.18 + tilt), y0 + h * .2), (left + w * tilt, y0 + h * .2)],
                         fill=light if i % 2 else ink)
        draw.line((x0 + w * .1, y1 - h * .14, x1 - w * .1, y1 - h * .14), fill=ink, width=line)
    elif kind == "Stationery":  # a pencil
        draw.polygon([(x0 + w * .15, cy + h * .25), (x1 - w * .3, cy - h * .3), (x1 - w * .15, cy - h * .15),
                      (x0 + w * .3, cy + h * .4)], fill=light, outline=ink)
        draw.polygon([(x0 + w * .15, cy + h * .25), (x0 + w * .3, cy + h * .4), (x0 + w * .08, cy + h * .45)],
                     fill=ink)
    elif kind == "Outdoors":  # mountains and a sun
        draw.ellipse((x1 - w * .3, y0 + h * .1, x1 - w * .1, y0 + h * .3), fill=light)
        draw.polygon([(x0, y1 - h * .1), (cx - w * .1, y0 + h * .25), (cx + w * .15, y1 - h * .1)], fill=ink)
        draw.polygon([(cx - w * .1, y1 - h * .1), (cx + w * .2, y0 + h * .4), (x1, y1 - h * .1)], fill=light)
    elif kind == "Home":  # a house
        draw.polygon([(cx, y0 + h * .1), (x0 + w * .1, cy), (x1 - w * .1, cy)], fill=ink)
        draw.rectangle((x0 + w * .2, cy, x1 - w * .2, y1 - h * .1), fill=light)
        draw.rectangle((cx - w * .08, cy + h * .15, cx + w * .08, y1 - h * .1), fill=ink)
    elif kind == "Toys":  # stacked blocks
        s = w * .25
        for bx, by, fill in ((cx - s, y1 - h * .1 - s, ink), (cx, y1 - h * .1 - s, light),
                             (cx - s / 2, y1 - h * .1 - 2 * s, light)):
            draw.rectangle((bx, by, bx + s, by + s), fill=fill, outline=ink, width=line)
    elif kind == "Music":  # a note
        draw.ellipse((cx - w * .25, cy + h * .1, cx, cy + h * .3), fill=ink)
        draw.line((cx - line / 2, cy + h * .2, cx - line / 2, y0 + h * .1), fill=ink, width=line)
        draw.line((cx - line / 2, y0 + h * .1, cx + w * .2, y0 + h * .22), fill=ink, width=line * 2)
    elif kind == "Bath":  # a drop
        draw.polygon([(cx, y0 + h * .1), (cx - w * .22, cy + h * .05), (cx + w * .22, cy + h * .05)], fill=light)
        draw.ellipse((cx - w * .22, cy - h * .15, cx + w * .22, cy + h * .3), fill=light, outline=None)
    elif kind == "Tools":  # a spanner
        draw.line((x0 + w * .2, y1 - h * .2, x1 - w * .25, y0 + h * .25), fill=ink, width=line * 4)
        draw.ellipse((x1 - w * .4, y0 + h * .1, x1 - w * .1, y0 + h * .4), fill=ink)
        draw.ellipse((x1 - w * .3, y0 + h * .2, x1 - w * .2, y0 + h * .3), fill=light)
    elif kind == "Pets":  # a paw
        draw.ellipse((cx - w * .2, cy, cx + w * .2, cy + h * .3), fill=ink)
        for i in range(4):
            angle = math.radians(200 + i * 47)
            px, py = cx + math.cos(angle) * w * .28, cy + math.sin(angle) * h * .22
            draw.ellipse((px - w * .07, py - h * .09, px + w * .07, py + h * .09), fill=ink)
    else:  # Sport: a ball
        draw.ellipse((cx - w * .3, cy - h * .3, cx + w * .3, cy + h * .3), fill=light, outline=ink, width=line)
        draw.arc((cx - w * .5, cy - h * .3, cx + w * .1, cy + h * .3), -60, 60, fill=ink, width=line)
        draw.arc((cx - w * .1, cy - h * .3, cx + w * .5, cy + h * .3), 120, 240, fill=ink, width=line)


def product_png(name: str, category: str, colour: str, *, size: int = 400, seed: int = 0) -> bytes:
    """A product picture: a soft background in the category's colour, its motif, and the name on a band."""
    rng = random.Random(seed)
    top, bottom = _mix(colour, (255, 255, 255), .82), _mix(colour, (255, 255, 255), .6)
    image = Image.new("RGB", (size, size), top)
    draw = ImageDraw.Draw(image)
    for y in range(size):  # vertical gradient
        t = y / size
        draw.line((0, y, size, y), fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    for _ in range(6):  # a few soft circles, different for each product
        r = rng.randint(size // 10, size // 4)
        x, y = rng.randint(0, size), rng.randint(0, size)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_mix(colour, (255, 255, 255), rng.uniform(.7, .9)))
    image = image.filter(ImageFilter.GaussianBlur(size // 40))
    draw = ImageDraw.Draw(image)
    ink, light = _mix(colour, (0, 0, 0), .15), _mix(colour, (255, 255, 255), .45)
    _draw_motif(draw, category, (size * .2, size * .1, size * .8, size * .7), ink, light)
    band = size * .76
    draw.rectangle((0, band, size, size), fill=(255, 255, 255))
    font = ImageFont.load_default(size=size // 16)
    words, lines = name.replace("×", "x").split(), []
    for word in words:
        if lines and draw.textlength(lines[-1] + " " + word, font=font) < size * .9:
            lines[-1] += " " + word
        else:
            lines.append(word)
    lines = lines[:2]
    y = band + (size - band - len(lines) * size / 14) / 2
    for text in lines:
        draw.text(((size - draw.textlength(text, font=font)) / 2, y), text, fill=_mix(colour, (0, 0, 0), .35),
                  font=font)
        y += size / 14
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def demo_products(*, products: int, categories: int) -> list[tuple[int, str, Decimal, str]]:
    """(category index, name, price, description) for the catalogue, spread evenly over categories."""
    per_category: list[list[tuple[str, Decimal, str]]] = []
    for i in range(categories):
        _, _, items = CATALOGUE[i % len(CATALOGUE)]
        entries = []
        for variant_index in range(2):
            for name, base, description, variants in items:
                label, factor = variants[variant_index % len(variants)]
                entries.append((f"{name}, {label}", shop_price(base, factor), description))
        per_category.append(entries)
    out = []
    for n in range(products):
        ci = n % categories
        entries = per_category[ci]
        name, price, description = entries[(n // categories) % len(entries)]
        edition = (n // categories) // len(entries)
        if edition:  # more products asked for than the category lists: a second colourway
            name = f"{name} ({['sage', 'charcoal', 'sand', 'rust', 'navy'][(edition - 1) % 5]})"
        out.append((ci, name, price, description))
    return out


@transaction.atomic
def load_catalogue(*, products: int = 240, categories: int = 12, images: bool = True, seed: int = 7) -> int:
    """Create a demo catalogue if the shop has none; returns how many products were created."""
    if Product.objects.exists():
        return 0
    rng = random.Random(seed)
    cats = []
    for i in range(categories):
        base, _, _ = CATALOGUE[i % len(CATALOGUE)]
        name = base if i < len(CATALOGUE) else f"{base} {i // len(CATALOGUE) + 1}"
        cats.append(Category.objects.create(name=name, slug=slugify(name), position=i))
    created = []
    for n, (ci, name, price, description) in enumerate(demo_products(products=products, categories=categories)):
        cat = cats[ci]
        colour = CATALOGUE[ci % len(CATALOGUE)][1]
        product = Product(
            category=cat, name=name, slug=f"{slugify(name)[:160]}-{n}",
            description=f"{description}\nShipped free, worldwide.",
            price=price, stock=rng.choice(STOCK_LEVELS),
        )
        if images:
            product.image.save(f"{product.slug}.png",
                               ContentFile(product_png(name, cat.name, colour, seed=seed * 1000 + n)), save=False)
        created.append(product)
    Product.objects.bulk_create(created, batch_size=500)
    return len(created)
