/**
 * Colour naming for the adherence check: sRGB bytes to CIELAB (D65) and the CIE94 colour
 * difference with the "textiles" weights (kL = 2), which counts hue more than lightness and
 * chroma. Decoders of small models darken, brighten and wash out colours far more than they
 * turn their hue, so a desaturated purple should still be named purple, not white.
 */

export type Lab = readonly [number, number, number];

function srgbToLinear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

// D65 reference white
const XN = 0.95047, YN = 1.0, ZN = 1.08883;

/** sRGB bytes (0–255, may be fractional) to CIELAB. */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const rl = srgbToLinear(r), gl = srgbToLinear(g), bl = srgbToLinear(b);
  const x = 0.4124564 * rl + 0.3575761 * gl + 0.1804375 * bl;
  const y = 0.2126729 * rl + 0.7151522 * gl + 0.0721750 * bl;
  const z = 0.0193339 * rl + 0.1191920 * gl + 0.9503041 * bl;
  const fx = labF(x / XN), fy = labF(y / YN), fz = labF(z / ZN);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIE94 difference of `sample` from the `reference` colour, textiles weights (kL = 2, K1 = 0.048, K2 = 0.014). */
export function deltaE94(reference: Lab, sample: Lab): number {
  const c1 = Math.hypot(reference[1], reference[2]), c2 = Math.hypot(sample[1], sample[2]);
  const dL = reference[0] - sample[0], dC = c1 - c2;
  const da = reference[1] - sample[1], db = reference[2] - sample[2];
  const dH2 = Math.max(0, da * da + db * db - dC * dC);
  const sC = 1 + 0.048 * c1, sH = 1 + 0.014 * c1;
  return Math.sqrt((dL / 2) ** 2 + (dC / sC) ** 2 + dH2 / (sH * sH));
}

/** A named palette in Lab, built from float RGB in [0, 1]. */
export class LabPalette<Name extends string> {
  readonly names: Name[];
  private readonly labs: Lab[];

  constructor(entries: Readonly<Record<Name, readonly [number, number, number]>>) {
    this.names = Object.keys(entries) as Name[];
    this.labs = this.names.map((n) => {
      const [r, g, b] = entries[n];
      return rgbToLab(r * 255, g * 255, b * 255);
    });
  }

  /** Index of the nearest entry to a Lab colour. */
  nearestIndex(lab: Lab): number {
    let best = 0, bestD = Infinity;
    for (let i = 0; i < this.labs.length; i++) {
      const d = deltaE94(this.labs[i], lab);
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  /** Nearest entry by CIE94 and its distance. */
  nearest(r: number, g: number, b: number): { name: Name; deltaE94: number } {
    const lab = rgbToLab(r, g, b);
    const i = this.nearestIndex(lab);
    return { name: this.names[i], deltaE94: deltaE94(this.labs[i], lab) };
  }
}
