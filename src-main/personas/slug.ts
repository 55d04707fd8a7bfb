/** A persona's id from its name, for names in any script. */
import { createHash } from 'node:crypto';

/** Cyrillic and Greek letters in Latin (a common romanisation), so "Пират Иван" reads "pirat-ivan". */
const TRANSLIT: Record<string, string> = Object.fromEntries(
  [
    ...'а:a б:b в:v г:g д:d е:e ё:e ж:zh з:z и:i й:i к:k л:l м:m н:n о:o п:p р:r с:s т:t у:u ф:f х:kh ц:ts ч:ch ш:sh щ:shch ъ: ы:y ь: э:e ю:yu я:ya і:i ї:yi є:ye ґ:g'.split(
      ' ',
    ),
    ...'α:a β:v γ:g δ:d ε:e ζ:z η:i θ:th ι:i κ:k λ:l μ:m ν:n ξ:x ο:o π:p ρ:r σ:s ς:s τ:t υ:y φ:f χ:ch ψ:ps ω:o'.split(
      ' ',
    ),
  ].map((pair) => pair.split(':') as [string, string]),
);

/** Hex characters of the name's hash that keep ids apart when letters have no Latin spelling. */
const SLUG_HASH_CHARS = 8;

/**
 * Lowercase a-z0-9 words joined by '-', e.g. "Ada Lovelace" -> "ada-lovelace". Cyrillic and
 * Greek are romanised; letters of other scripts (Japanese, Chinese, Arabic…) have no spelling
 * here, so a short hash of the whole name is added: "海賊の太郎" and "山田花子" get different ids
 * instead of both becoming "persona" (and one a new version of the other).
 */
export function slugify(text: string): string {
  // Accents off first (é -> e, ά -> α), then the romanisation of what is left.
  const bare = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[\u0300-\u036f]/g, '');
  const stripped = [...bare].map((ch) => TRANSLIT[ch] ?? ch).join('');
  const slug = stripped.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  // Letters or digits the a-z0-9 alphabet dropped: the slug alone no longer names the character.
  const lost = /[\p{L}\p{N}]/u.test(stripped.replace(/[a-z0-9]/g, ''));
  if (!lost) return slug.slice(0, 64) || 'persona';
  const hash = createHash('sha256').update(text.normalize('NFKC').trim()).digest('hex');
  const head = slug.slice(0, 64 - SLUG_HASH_CHARS - 1) || 'persona';
  return `${head}-${hash.slice(0, SLUG_HASH_CHARS)}`;
}
