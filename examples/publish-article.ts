// Example: a nested pipeline: a review workflow inside a publishing workflow, then two renderings in parallel.
import { z } from 'zod';
import { createStep, createWorkflow } from 'weft';

const draft = z.object({ slug: z.string(), title: z.string(), body: z.string() });
const slugInput = z.object({ slug: z.string().regex(/^[a-z0-9-]+$/, 'lower-case words joined by dashes') });
const reviewed = draft.extend({ topic: z.string(), wordCount: z.number(), fixes: z.number() });

const TYPOS: Record<string, string> = { teh: 'the', recieve: 'receive', seperate: 'separate', wich: 'which' };

const fetchDraft = createStep({
  id: 'fetch-draft',
  description: 'Loads the draft from the CMS',
  inputSchema: slugInput,
  outputSchema: draft,
  execute: async ({ inputData }) => {
    const title = inputData.slug
      .split('-')
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(' ');
    return {
      slug: inputData.slug,
      title,
      body: `Teh short story of ${title}: how we recieve orders and ship them wich ever way is fastest.`,
    };
  },
});

const fixSpelling = createStep({
  id: 'fix-spelling',
  description: 'Corrects common typos',
  inputSchema: draft,
  outputSchema: draft.extend({ fixes: z.number() }),
  execute: async ({ inputData }) => {
    let fixes = 0;
    const body = inputData.body.replace(/\b\w+\b/g, (word) => {
      const fixed = TYPOS[word.toLowerCase()];
      if (!fixed) return word;
      fixes++;
      return word[0] === word[0]!.toUpperCase() ? fixed[0]!.toUpperCase() + fixed.slice(1) : fixed;
    });
    return { ...inputData, body, fixes };
  },
});

const classifyTopic = createStep({
  id: 'classify-topic',
  description: 'Tags the article with a topic',
  inputSchema: draft.extend({ fixes: z.number() }),
  outputSchema: reviewed,
  execute: async ({ inputData }) => ({
    ...inputData,
    topic: /ship|order|deliver/i.test(inputData.body) ? 'logistics' : 'general',
    wordCount: inputData.body.split(/\s+/).length,
  }),
});

/** The review stage on its own: spelling, then topic. Nested below as one step. */
export const reviewArticle = createWorkflow({
  id: 'review-article',
  description: 'Spelling and topic review of a draft',
  inputSchema: draft,
  outputSchema: reviewed,
})
  .then(fixSpelling)
  .then(classifyTopic)
  .commit();

const page = z.object({ url: z.string(), bytes: z.number() });
const socialPosts = z.object({ posts: z.array(z.string()) });
const published = z.object({ url: z.string(), queuedPosts: z.number() });

const renderHtml = createStep({
  id: 'render-html',
  description: 'Renders the article page',
  inputSchema: reviewed,
  outputSchema: page,
  execute: async ({ inputData }) => {
    const html = `<article><h1>${inputData.title}</h1><p>${inputData.body}</p></article>`;
    return { url: `https://blog.example.test/${inputData.topic}/${inputData.slug}`, bytes: html.length };
  },
});

const buildSocialPosts = createStep({
  id: 'build-social-posts',
  description: 'Writes the announcement posts',
  inputSchema: reviewed,
  outputSchema: socialPosts,
  execute: async ({ inputData }) => ({
    posts: [
      `New on the blog: ${inputData.title}`,
      `${inputData.wordCount} words on ${inputData.topic}. #${inputData.topic}`,
    ],
  }),
});

const publish = createStep({
  id: 'publish',
  description: 'Makes the page live and queues the posts',
  inputSchema: z.object({
    'render-html': page,
    'build-social-posts': socialPosts,
  }),
  outputSchema: published,
  execute: async ({ inputData }) => ({
    url: inputData['render-html'].url,
    queuedPosts: inputData['build-social-posts'].posts.length,
  }),
});

/** Publishing: fetch the draft, run the nested review, render page and posts in parallel, publish. */
export const publishArticle = createWorkflow({
  id: 'publish-article',
  description: 'Fetches a draft, reviews it in a nested workflow, renders it and publishes it',
  inputSchema: slugInput,
  outputSchema: published,
})
  .then(fetchDraft)
  .then(reviewArticle)
  .parallel([renderHtml, buildSocialPosts])
  .then(publish)
  .commit();
