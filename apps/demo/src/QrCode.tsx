import { useMemo } from 'react'
import { encode } from 'uqr'

/** A QR code of `text` as an SVG: one path of dark modules, with a quiet zone around it. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { path, size } = useMemo(() => {
    const { data } = encode(text, { border: 2 })
    let d = ''
    data.forEach((row, y) => row.forEach((dark, x) => dark && (d += `M${x} ${y}h1v1h-1z`)))
    return { path: d, size: data.length }
  }, [text])
  return (
    <svg className="qr" data-testid="link-qr" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} shapeRendering="crispEdges">
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  )
}
