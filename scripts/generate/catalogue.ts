/**
 * The product catalogue of the synthetic shop: 500 products in 8 categories with realistic names and base
 * prices. It is the same for every seed (its own fixed random stream), so product ids and names are stable
 * across datasets. One name carries HTML and quotes on purpose, so that the report's escaping is exercised;
 * a few names contain commas, so that CSV quoting is exercised.
 */
import { Rng } from '../../lib/random';
import { CATEGORIES } from './profiles';

/** A name with HTML, an ampersand and double quotes: the report must escape it. */
export const HOSTILE_PRODUCT_NAME = 'Novelty Mug <script>alert(1)</script> & "quotes"';

const CATALOGUE_SEED = 20230101;

interface CategorySpec {
  count: number;
  /** Base price range in dollars; prices are log-uniform inside it. */
  minPrice: number;
  maxPrice: number;
  brands: string[];
  descriptors: string[];
  nouns: string[];
}

const SPECS: Record<(typeof CATEGORIES)[number], CategorySpec> = {
  essentials: {
    count: 70,
    minPrice: 0.6,
    maxPrice: 18,
    brands: ['Everyday', 'PureHome', 'Basics Co', 'GreenLeaf', 'ValuePlus'],
    descriptors: ['Value Pack', 'Eco', 'Family Size', 'Unscented', 'Original', 'Lemon', 'Refill'],
    nouns: [
      'Paper Towels',
      'Dish Soap',
      'Laundry Detergent',
      'Toilet Paper',
      'Trash Bags',
      'Sponges',
      'Hand Soap',
      'Batteries, AA 12-Pack',
      'Aluminium Foil',
      'Coffee Beans',
      'Spaghetti',
      'Basmati Rice',
      'Olive Oil',
      'Tea Bags',
      'Oat Cereal',
      'Toothpaste',
    ],
  },
  electronics: {
    count: 60,
    minPrice: 19,
    maxPrice: 1600,
    brands: ['Voltix', 'Nordlicht', 'Sonara', 'PixelWorks', 'Arcline'],
    descriptors: ['Pro', 'Max', 'Mini', 'Wireless', '4K', 'Gen 2', 'Ultra'],
    nouns: [
      'Noise-Cancelling Headphones',
      'Smartphone',
      'Laptop 14"',
      'Tablet',
      'Smartwatch',
      'Bluetooth Speaker',
      'Monitor 27"',
      'Mirrorless Camera',
      'Game Console',
      'Mechanical Keyboard',
      'Wireless Mouse',
      'Power Bank',
      'Smart TV 55"',
    ],
  },
  home: {
    count: 70,
    minPrice: 6,
    maxPrice: 450,
    brands: ['Hearth & Co', 'Oakline', 'Casa Nova', 'Linnea', 'Stonebrook'],
    descriptors: ['Linen', 'Ceramic', 'Oak', 'Cast Iron', 'Velvet', 'Bamboo', 'Glass'],
    nouns: [
      'Throw Pillow',
      'Table Lamp',
      'Dinner Plate Set',
      'Dutch Oven',
      'Bath Towel',
      'Duvet Cover',
      'Scented Candle',
      'Picture Frame',
      'Storage Basket',
      'Kitchen Knife',
      'Coffee Table',
      'Wall Clock',
      'Rug 160x230',
    ],
  },
  fashion: {
    count: 70,
    minPrice: 9,
    maxPrice: 280,
    brands: ['Atelier Nine', 'Wren & Finch', 'Northcoast', 'Loom Studio', 'Urbana'],
    descriptors: ['Slim Fit', 'Organic Cotton', 'Wool', 'Denim', 'Linen', 'Oversized', 'Classic'],
    nouns: [
      'T-Shirt',
      'Jeans',
      'Sneakers',
      'Dress',
      'Hoodie',
      'Rain Jacket',
      'Socks, 3-Pack',
      'Leather Belt',
      'Scarf',
      'Chinos',
      'Blouse',
      'Ankle Boots',
    ],
  },
  beauty: {
    count: 60,
    minPrice: 4,
    maxPrice: 130,
    brands: ['Lumiere', 'Botanica', 'Dermaluxe', 'Solstice', 'Maison Rose'],
    descriptors: ['Hydrating', 'Vitamin C', 'Sensitive', 'Night', 'Matte', 'Travel Size', 'SPF 30'],
    nouns: [
      'Face Serum',
      'Moisturiser',
      'Shampoo',
      'Conditioner',
      'Lipstick',
      'Eau de Parfum',
      'Cleanser',
      'Sheet Masks',
      'Body Lotion',
      'Mascara',
      'Hand Cream',
    ],
  },
  toys: {
    count: 55,
    minPrice: 5,
    maxPrice: 160,
    brands: ['Brickly', 'Tiny Tales', 'Playfox', 'Wonderwood', 'Kiddo'],
    descriptors: ['Deluxe', 'Junior', 'Wooden', 'Glow', 'Classic', 'Travel'],
    nouns: [
      'Building Set',
      'Plush Bear',
      'Puzzle 1000 Pieces',
      'Board Game',
      'Remote Control Car',
      'Doll House',
      'Train Set',
      'Art Kit',
      'Kite',
      'Marble Run',
    ],
  },
  sports: {
    count: 55,
    minPrice: 6,
    maxPrice: 650,
    brands: ['Peakform', 'Stride', 'Aqualine', 'Ironclad', 'Trailhead'],
    descriptors: ['Pro', 'Lightweight', 'Carbon', 'Trail', 'Indoor', 'All-Weather'],
    nouns: [
      'Yoga Mat',
      'Running Shoes',
      'Dumbbell Set',
      'Tennis Racket',
      'Cycling Helmet',
      'Water Bottle',
      'Backpack 30L',
      'Tent 2-Person',
      'Swim Goggles',
      'Resistance Bands',
    ],
  },
  books: {
    count: 60,
    minPrice: 5,
    maxPrice: 65,
    brands: ['Penfold Press', 'Harbour Books', 'Quill & Ink', 'Meridian'],
    descriptors: ['Paperback', 'Hardcover', 'Illustrated', "Collector's Edition", 'Pocket'],
    nouns: [
      'Cookbook',
      'Thriller',
      'Field Guide to Birds',
      'History of Rome',
      'Poetry Anthology',
      "Children's Atlas",
      'Science Fiction Novel',
      'Travel Guide',
      'Biography',
      'Gardening Handbook',
      'Programming Primer',
      'Graphic Novel',
    ],
  },
};

/** The catalogue as parallel arrays (index = product index). */
export interface Catalogue {
  ids: string[];
  names: string[];
  /** Names ready for a CSV field (quoted when they contain a comma, quote or newline). */
  csvNames: string[];
  /** Category index into CATEGORIES. */
  category: Int32Array;
  /** Base price in cents. */
  basePriceCents: Int32Array;
  /** Per category: product indexes sorted by base price ascending. */
  byCategory: Int32Array[];
  /** Per category: base prices (cents) in the same order as byCategory. */
  pricesByCategory: Float64Array[];
}

/** Quote a CSV field when it needs it (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Build the (seed-independent) catalogue. */
export function buildCatalogue(): Catalogue {
  const rng = new Rng(CATALOGUE_SEED);
  const ids: string[] = [];
  const names: string[] = [];
  const categories: number[] = [];
  const prices: number[] = [];
  CATEGORIES.forEach((category, categoryIndex) => {
    const spec = SPECS[category];
    const combos: string[] = [];
    for (const brand of spec.brands)
      for (const descriptor of spec.descriptors)
        for (const noun of spec.nouns) combos.push(`${brand} ${descriptor} ${noun}`);
    rng.shuffle(combos);
    const chosen = combos.slice(0, spec.count);
    if (category === 'home') chosen[0] = HOSTILE_PRODUCT_NAME;
    const logMin = Math.log(spec.minPrice);
    const logMax = Math.log(spec.maxPrice);
    for (const name of chosen) {
      const dollars = Math.exp(logMin + (logMax - logMin) * rng.uniform());
      // Shelf prices: x.99 above $5, plain cents below.
      const cents = dollars >= 5 ? Math.round(dollars) * 100 - 1 : Math.max(1, Math.round(dollars * 100));
      ids.push(`P${String(ids.length + 1).padStart(4, '0')}`);
      names.push(name);
      categories.push(categoryIndex);
      prices.push(cents);
    }
  });
  const byCategory: Int32Array[] = [];
  const pricesByCategory: Float64Array[] = [];
  for (let c = 0; c < CATEGORIES.length; c++) {
    const members = categories.map((cat, i) => (cat === c ? i : -1)).filter((i) => i >= 0);
    members.sort((x, y) => prices[x] - prices[y] || x - y);
    byCategory.push(Int32Array.from(members));
    pricesByCategory.push(Float64Array.from(members.map((i) => prices[i])));
  }
  // Output files are written as latin1 bytes: names must stay ASCII.
  for (const name of names)
    if (!/^[\x20-\x7e]*$/.test(name)) throw new Error(`catalogue: product name is not ASCII: ${name}`);
  return {
    ids,
    names,
    csvNames: names.map(csvField),
    category: Int32Array.from(categories),
    basePriceCents: Int32Array.from(prices),
    byCategory,
    pricesByCategory,
  };
}
