/**
 * The page's files, imported as text so they are part of the module graph
 * (`deno compile` embeds them) and served from memory: no request ever
 * reaches the file system.
 *
 * @module
 */

import uPlotScript from "uplot/script" with { type: "text" };
import uPlotStyle from "uplot/style" with { type: "text" };
import page from "./page/index.html" with { type: "text" };
import script from "./page/app.js" with { type: "text" };
import style from "./page/app.css" with { type: "text" };

/** One file served at a fixed path. */
export interface Asset {
  /** The `content-type` header. */
  readonly type: string;
  /** The file's bytes. */
  readonly body: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();
const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** Every file the page needs, by the exact path it is served at. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map(
  ([
    ["/", HTML, page],
    ["/app.js", JS, script],
    ["/app.css", CSS, style],
    ["/uPlot.js", JS, uPlotScript],
    ["/uPlot.css", CSS, uPlotStyle],
  ] as const).map(([path, type, text]) => [
    path,
    { type, body: encoder.encode(text) },
  ]),
);
