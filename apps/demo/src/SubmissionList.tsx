import { useCubby, useCubbyKeys, useCubbyStatus } from '@cubby/react'
import type { Submission } from './schema.js'

const NOTHING: Submission = { name: '', likesCheckboxes: false, favouriteNumber: 0, submittedAt: 0 }

/** One submission, re-rendered only when it changes, marked pending until the server has it. */
function SubmissionRow({ id }: { id: `submission/${string}` }) {
  const [submission, , meta] = useCubby(id, NOTHING)
  return (
    <li className="submission" data-testid="submission" data-key={id} data-status={meta.status}>
      <div className="submission-main">
        <strong className="submission-name">{submission.name}</strong>
        <span className="submission-details">
          {submission.likesCheckboxes ? '☑ likes checkboxes' : '☐ not into checkboxes'} · favourite number{' '}
          <b>{submission.favouriteNumber}</b>
        </span>
      </div>
      <span className={`badge badge-${meta.status}`} title={meta.error?.message}>
        {meta.status}
      </span>
      <time dateTime={new Date(submission.submittedAt).toISOString()}>{new Date(submission.submittedAt).toLocaleString()}</time>
    </li>
  )
}

/** Every submission of this user, newest first, from every device. */
export function SubmissionList() {
  const keys = useCubbyKeys({ prefix: 'submission/' })
  const { loaded } = useCubbyStatus()
  return (
    <section className="card submissions" data-testid="submissions">
      <h2>
        Submissions <span className="count">{keys.length}</span>
      </h2>
      {keys.length === 0 ? (
        <p className="empty">{loaded ? 'Nothing yet: submit the form.' : 'Loading…'}</p>
      ) : (
        <ul>
          {[...keys].reverse().map((key) => (
            <SubmissionRow key={key} id={key} />
          ))}
        </ul>
      )}
    </section>
  )
}
