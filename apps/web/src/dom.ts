/** Small DOM helpers shared by the UI modules. */

/** The element with this id; throws when the page lacks it (a wiring bug). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`da3 app: #${id} is missing from the page`);
  return el as T;
}

/** Fills a `<select>` with options (value = label unless a label is given) and selects `value`. */
export function fillSelect(select: HTMLSelectElement, options: readonly (string | readonly [string, string])[], value?: string): void {
  select.replaceChildren(
    ...options.map((o) => {
      const [v, label] = typeof o === 'string' ? [o, o] : o;
      const opt = document.createElement('option');
      opt.value = v;
      opt.textContent = label;
      return opt;
    }),
  );
  if (value !== undefined) select.value = value;
}
