// A uPlot chart in a React tree: built once per data and options, resized with its box.
import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function Chart({
  options,
  data,
  label,
  height = 300,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  label: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const size = () => ({ width: Math.max(280, element.clientWidth), height });
    const plot = new uPlot({ ...options, ...size() }, data, element);
    const observer = new ResizeObserver(() => plot.setSize(size()));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [options, data, height]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}

/** Distinct colours with enough contrast on white, for up to ten series. */
export const PALETTE = [
  '#1f5fa8',
  '#b3451b',
  '#2d7a3e',
  '#7a3e9d',
  '#8a6d00',
  '#00727a',
  '#a3195b',
  '#555555',
  '#3b4cc0',
  '#9c4a00',
];

/** The series' names and colours under a chart (uPlot's own legend is not used). */
export function Legend({ labels }: { labels: string[] }) {
  return (
    <ul className="legend">
      {labels.map((label, i) => (
        <li key={label}>
          <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
          {label}
        </li>
      ))}
    </ul>
  );
}

/** A wide table that scrolls sideways on a narrow screen (and can be scrolled with the keyboard). */
export function Scroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
