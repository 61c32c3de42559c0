// GSM 03.38 basic set and extension table (extension characters cost two septets).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';

export interface SegmentCount {
  encoding: 'GSM-7' | 'UCS-2';
  units: number;
  segments: number;
}

/** How many SMS segments a text costs: 160/153 septets in GSM-7, else 70/67 UCS-2 code units. */
export function countSegments(text: string): SegmentCount {
  let septets = 0;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) septets += 1;
    else if (GSM_EXTENSION.includes(char)) septets += 2;
    else {
      const units = text.length; // UTF-16 code units, as UCS-2 counts them
      return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

const GSM_LOOKALIKES: Record<string, string> = {
  '…': '...',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  '–': '-',
  '—': '-',
  '\u00a0': ' ',
  '\u202f': ' ',
};

/**
 * The text in the GSM-7 alphabet, for an SMS that would not fit otherwise: accents GSM-7 lacks are
 * dropped (á → a; é, ñ and ü stay), typographic marks become their plain forms, anything else `?`.
 * One UCS-2 character costs a message more than half its room.
 */
export function toGsm(text: string): string {
  let out = '';
  for (const char of text) {
    if (GSM_BASIC.includes(char) || GSM_EXTENSION.includes(char)) out += char;
    else if (char in GSM_LOOKALIKES) out += GSM_LOOKALIKES[char];
    else {
      const bare = char.normalize('NFD').replace(/\p{M}/gu, '');
      out += [...bare].every((c) => GSM_BASIC.includes(c)) && bare ? bare : '?';
    }
  }
  return out;
}
