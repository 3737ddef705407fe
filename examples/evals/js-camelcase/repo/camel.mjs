/** camelCase of words separated by spaces, hyphens or underscores. */
export function camelCase(text) {
  const words = text.split(' ');
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase())).join('');
}
