import { useCubbyClient } from '@cubby/react'
import { type FormEvent, useState } from 'react'
import { newSubmissionKey } from './schema.js'

/** The form: name, "I like checkboxes", a favourite number from 0 to 100. Each submission is its own key. */
export function SubmissionForm() {
  const cubby = useCubbyClient()
  const [name, setName] = useState('')
  const [likesCheckboxes, setLikesCheckboxes] = useState(false)
  const [favouriteNumber, setFavouriteNumber] = useState(42)
  const [error, setError] = useState<string>()

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    if (!cubby) return
    setError(undefined)
    if (name.trim() === '') {
      setError('Enter a name: spaces alone are not one.')
      return
    }
    try {
      // Resolves once durable in IndexedDB; the server gets it whenever the connection allows.
      await cubby.store(newSubmissionKey(), { name: name.trim(), likesCheckboxes, favouriteNumber, submittedAt: Date.now() })
      setName('')
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    }
  }

  return (
    <form className="card submission-form" data-testid="submission-form" onSubmit={(e) => void submit(e)}>
      <h2>Tell us about yourself</h2>
      <label>
        Name
        <input name="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="checkbox">
        <input name="likesCheckboxes" type="checkbox" checked={likesCheckboxes} onChange={(e) => setLikesCheckboxes(e.target.checked)} />I
        like checkboxes
      </label>
      <label>
        <span>
          Favourite number: <output>{favouriteNumber}</output>
        </span>
        <input
          name="favouriteNumber"
          type="range"
          min={0}
          max={100}
          value={favouriteNumber}
          onChange={(e) => setFavouriteNumber(Number(e.target.value))}
        />
      </label>
      <button type="submit" disabled={!cubby}>
        Submit
      </button>
      {error && <p className="error">{error}</p>}
    </form>
  )
}
