"""Demo catalogue: generated names, prices and placeholder images (no downloads)."""
from __future__ import annotations

import io
import random
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from .models import Category, Product

CATEGORIES = [
    ("Kitchen", ["Chef's Knife", "Cast Iron Pan", "Cutting Board", "Pepper Mill", "Tea Kettle", "Spice Jar Set"]),
    ("Garden", ["Pruning Shears", "Watering Can", "Seed Tray", "Garden Gloves", "Hose Nozzle", "Plant Pot"]),
    ("Books", ["Field Guide", "Cookbook", "Travel Journal", "Poetry Collection", "Atlas", "Sketchbook"]),
    ("Stationery", ["Fountain Pen", "Notebook", "Desk Organiser", "Pencil Set", "Ink Bottle", "Letter Opener"]),
    ("Outdoors", ["Camping Mug", "Headlamp", "Trail Backpack", "Water Bottle", "Compass", "Rain Poncho"]),
    ("Home", ["Wool Blanket", "Table Lamp", "Linen Cushion", "Wall Clock", "Door Mat", "Candle"]),
    ("Toys", ["Wooden Blocks", "Kite", "Puzzle", "Spinning Top", "Marble Run", "Board Game"]),
    ("Music", ["Harmonica", "Guitar Strings", "Metronome", "Ukulele", "Tambourine", "Music Stand"]),
    ("Bath", ["Bath Towel", "Soap Bar", "Wooden Brush", "Bath Mat", "Shower Caddy", "Loofah"]),
    ("Tools", ["Claw Hammer", "Screwdriver Set", "Tape Measure", "Spirit Level", "Hand Saw", "Utility Knife"]),
    ("Pets", ["Dog Leash", "Cat Bed", "Food Bowl", "Chew Toy", "Grooming Brush", "Bird Feeder"]),
    ("Sport", ["Jump Rope", "Yoga Mat", "Tennis Balls", "Sweatband", "Foam Roller", "Stopwatch"]),
]
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Everyday", "Heritage", "Nordic", "Studio", "Travel",
              "Urban", "Vintage", "Woodland", "Coastal", "Alpine", "Harbour", "Meadow", "Prairie"]
COLOURS = ["#2f6f8f", "#8f4a2f", "#3c7a3c", "#6b4f8f", "#8f7a2f", "#2f8f7f", "#8f2f5a", "#4a5a6b",
           "#7a3c3c", "#3c5a7a", "#5a7a3c", "#7a5a3c", "#3c3c7a", "#6b6b2f", "#2f4a8f", "#8f5a2f",
           "#4a8f2f", "#2f2f6b", "#6b2f2f", "#2f6b4a"]


def placeholder_png(text: str, colour: str, size: int = 320) -> bytes:
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size // 9)
    words, lines = text.split(), []
    for word in words:
        if lines and len(lines[-1]) + len(word) < 14:
            lines[-1] += " " + word
        else:
            lines.append(word)
    y = size // 2 - len(lines) * size // 18
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((size - width) / 2, y), line, fill="white", font=font)
        y += size // 9
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@transaction.atomic
def load_catalogue(*, products: int = 240, categories: int = 12, images: bool = True, seed: int = 7) -> int:
    """Create a demo catalogue if the shop has none; returns how many products were created."""
    if Product.objects.exists():
        return 0
    rng = random.Random(seed)
    cats = []
    for i in range(categories):
        base, _ = CATEGORIES[i % len(CATEGORIES)]
        name = base if i < len(CATEGORIES) else f"{base} {i // len(CATEGORIES) + 1}"
        cats.append(Category.objects.create(name=name, slug=slugify(name), position=i))
    created = []
    for n in range(products):
        ci = n % categories
        cat = cats[ci]
        nouns = CATEGORIES[ci % len(CATEGORIES)][1]
        name = f"{ADJECTIVES[(n // categories) % len(ADJECTIVES)]} {nouns[(n // categories) % len(nouns)]}"
        if n >= categories * len(ADJECTIVES):
            name += f" No. {n // (categories * len(ADJECTIVES)) + 1}"
        price = Decimal(rng.randrange(399, 19999)) / 100
        product = Product(
            category=cat, name=name, slug=slugify(f"{name}-{cat.slug}")[:170] + f"-{n}",
            description=f"A {name.lower()} from our {cat.name.lower()} range.\nMade to last, shipped free worldwide.",
            price=price, stock=rng.choice([0, 3, 8, 15, 25, 40, 60, 100]),
        )
        if images:
            product.image.save(f"{product.slug}.png", ContentFile(placeholder_png(name, COLOURS[ci % len(COLOURS)])),
                               save=False)
        created.append(product)
    Product.objects.bulk_create(created, batch_size=500)
    return len(created)
