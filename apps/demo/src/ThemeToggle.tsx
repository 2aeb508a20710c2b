import { useCubby } from '@cubby/react'
import { useEffect } from 'react'

/** The theme preference: kept per user, so it follows them to every device. */
export function ThemeToggle() {
  const [theme, setTheme, meta] = useCubby('theme', 'light')
  useEffect(() => {
    document.documentElement.dataset.theme = theme
  }, [theme])
  return (
    <button
      type="button"
      className="theme-toggle"
      data-testid="theme-toggle"
      data-status={meta.status}
      // The button shows the current theme; the label says so, and what a press does.
      aria-label={`Theme: ${theme} (switch to ${theme === 'dark' ? 'light' : 'dark'})`}
      title={`Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`}
      onClick={() => void setTheme((current) => (current === 'dark' ? 'light' : 'dark'))}
    >
      {theme === 'dark' ? '☾ Dark' : '☀ Light'}
    </button>
  )
}
