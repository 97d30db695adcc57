/**
 * The original design's 15 internal-document tags. The descriptions go into the prompt: they are
 * what separates, say, HR Documents from Performance Reviews for the model.
 */
import type { TaxonomyLabel } from './types.ts';

export const DEFAULT_TAXONOMY_LABELS: readonly TaxonomyLabel[] = Object.freeze([
  { name: 'Internal Policy', description: 'Rules, policies, codes of conduct and official procedures the organisation sets for itself.' },
  { name: 'Meeting Notes', description: 'Minutes, agendas, action lists and notes taken in or for a meeting.' },
  { name: 'Project Documentation', description: 'Plans, status reports, requirements, timelines and deliverables of a specific project.' },
  { name: 'Training Materials', description: 'Courses, manuals, onboarding guides, tutorials and other material meant to teach people.' },
  { name: 'Performance Reviews', description: 'Evaluations of an employee\'s work: appraisals, goals, ratings and review conversations.' },
  { name: 'Financial Reports', description: 'Budgets, forecasts, statements, invoices summaries and other reports about money.' },
  { name: 'HR Documents', description: 'Personnel matters: contracts, job descriptions, leave, benefits, hiring and payroll.' },
  { name: 'Technical Documentation', description: 'Descriptions of systems, software, architecture, APIs, configuration and operations.' },
  { name: 'Research & Development', description: 'Research, experiments, prototypes, studies and the development of new products or ideas.' },
  { name: 'Compliance', description: 'Legal and regulatory obligations, audits, certifications, privacy and data protection.' },
  { name: 'Internal Communications', description: 'Announcements, newsletters, memos and messages addressed to staff.' },
  { name: 'Feedback & Surveys', description: 'Questionnaires, survey results and feedback collected from employees or customers.' },
  { name: 'Strategic Planning', description: 'Vision, long-term goals, roadmaps, market analysis and business strategy.' },
  { name: 'Risk Management', description: 'Risk registers, assessments, mitigations, incident and continuity plans.' },
  { name: 'Miscellaneous', description: 'Anything that fits none of the other labels.' },
].map((label) => Object.freeze(label)));
