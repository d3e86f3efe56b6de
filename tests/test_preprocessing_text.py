"""keras.preprocessing.text and .sequence against Keras 1.2.2's own answers
(tests/fixtures/keras122_preprocessing.json, made by make_preprocessing_fixture.py
from Keras 1.2.2's source), plus the errors minikeras adds."""
import hashlib
import json
import os
import random

import numpy as np
import pytest

from minikeras.preprocessing import sequence, text
from minikeras.preprocessing.text import Tokenizer

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures',
                       'keras122_preprocessing.json')
with open(FIXTURE) as f:
    K122 = json.load(f)
CORPUS = [
    'The cat sat on the mat.',
    'The dog ate my homework!',
    "Dogs and cats: they're friends, aren't they?",
    'A\tcat\nand a DOG; the end',
    '',
]
MORE = ['the dog barked', 'mat mat mat']


def pairs(d):
    return [list(item) for item in sorted(d.items())]


def state(tok):
    return {'word_counts': pairs(tok.word_counts), 'word_docs': pairs(tok.word_docs),
            'word_index': pairs(tok.word_index), 'index_docs': pairs(tok.index_docs),
            'document_count': tok.document_count}


def test_text_to_word_sequence_matches_keras_1_2_2():
    assert len(K122['text_to_word_sequence']) == 28
    for case in K122['text_to_word_sequence']:
        assert text.text_to_word_sequence(case['text'], **case['kwargs']) == case['answer'], case


@pytest.mark.parametrize('index', range(4))
def test_tokenizer_matches_keras_1_2_2(index):
    case = K122['tokenizers'][index]
    tok = Tokenizer(**case['kwargs'])
    tok.fit_on_texts(CORPUS)
    assert state(tok) == case['after_first_fit']
    assert tok.texts_to_sequences(CORPUS + MORE) == case['sequences']
    assert list(tok.texts_to_sequences_generator(CORPUS)) == case['sequences'][:len(CORPUS)]
    for mode, expected in case['matrices'].items():
        np.testing.assert_allclose(tok.texts_to_matrix(CORPUS + MORE, mode=mode), expected,
                                   rtol=1e-12, err_msg=mode)
    tok.fit_on_texts(MORE)
    assert state(tok) == case['after_second_fit']
    for mode, expected in case['matrices_after_second_fit'].items():
        np.testing.assert_allclose(tok.texts_to_matrix(CORPUS, mode=mode), expected, rtol=1e-12)


def test_tie_order_and_tfidf_by_hand():
    # 'b' and 'a' both occur twice: 'b' was seen first, so it gets index 1.
    tok = Tokenizer()
    tok.fit_on_texts(['b a', 'a c b'])
    assert tok.word_index == {'b': 1, 'a': 2, 'c': 3}
    m = tok.texts_to_matrix(['c c a'], mode='tfidf')
    # tf = 1 + ln(count), idf = ln(1 + documents / (1 + documents with the word))
    assert m[0, 3] == pytest.approx((1 + np.log(2)) * np.log(1 + 2 / 2.))
    assert m[0, 2] == pytest.approx(1 * np.log(1 + 2 / 3.))
    assert m[0, 0] == m[0, 1] == 0


def test_fit_on_sequences_matches_keras_1_2_2():
    case = K122['fit_on_sequences']
    tok = Tokenizer(nb_words=12)
    tok.fit_on_sequences(case['sequences'])
    assert pairs(tok.index_docs) == case['index_docs']
    assert tok.document_count == case['document_count']
    for mode, expected in case['matrices'].items():
        np.testing.assert_allclose(
            tok.sequences_to_matrix(case['sequences'] + [[1, 1, 11, 15]], mode=mode), expected,
            rtol=1e-12)


def test_num_words_is_nb_words():
    tok = Tokenizer(num_words=3)
    assert tok.nb_words == tok.num_words == 3
    tok.fit_on_texts(['a a a b b c'])
    assert tok.texts_to_sequences(['a b c']) == [[1, 2]]
    with pytest.raises(ValueError, match='name the same setting'):
        Tokenizer(nb_words=3, num_words=4)


def test_tokenizer_errors():
    tok = Tokenizer()
    with pytest.raises(ValueError, match='fit on some text data first'):
        tok.texts_to_matrix(['a b'])
    with pytest.raises(ValueError, match='before using tfidf mode'):
        Tokenizer(nb_words=5).sequences_to_matrix([[1, 2]], mode='tfidf')
    tok.fit_on_texts(['a b'])
    with pytest.raises(ValueError, match="one of binary, count, tfidf, freq, got 'tf'"):
        tok.texts_to_matrix(['a'], mode='tf')
    with pytest.raises(TypeError, match='wrap it in a list'):
        tok.fit_on_texts('a b c')
    with pytest.raises(ValueError, match='nb_words must be'):
        Tokenizer(nb_words=-1)
    assert tok.texts_to_sequences(['unknown words']) == [[]]


def test_one_hot_and_hashing_trick():
    words = text.text_to_word_sequence('The cat, the CAT and a dog')
    indices = text.one_hot('The cat, the CAT and a dog', 7)
    assert len(indices) == len(words) == 7
    assert all(1 <= i <= 6 for i in indices)
    assert indices[0] == indices[2] and indices[1] == indices[3]
    md5 = text.hashing_trick('The cat', 100, hash_function='md5')
    # md5('the') = 8fc42c6ddf9966db3b09e84365034357, md5('cat') = d077f244def8a70e5ea758bd8352fcd8
    assert md5 == [int('8fc42c6ddf9966db3b09e84365034357', 16) % 99 + 1,
                   int('d077f244def8a70e5ea758bd8352fcd8', 16) % 99 + 1]
    assert hashlib.md5(b'the').hexdigest() == '8fc42c6ddf9966db3b09e84365034357'
    assert text.hashing_trick('a b', 10, hash_function=len) == [2, 2]
    for bad in (1, 0, 2.5):
        with pytest.raises(ValueError, match='n must be an integer >= 2'):
            text.one_hot('a', bad)
    with pytest.raises(ValueError, match='hash_function'):
        text.hashing_trick('a', 5, hash_function='sha1')


def test_pad_sequences_matches_keras_1_2_2():
    for case in K122['pad_sequences']:
        got = sequence.pad_sequences(case['sequences'], **case['kwargs'])
        assert str(got.dtype) == case['dtype']
        np.testing.assert_array_equal(got, case['answer'])
    case = K122['pad_sequences_nested']
    np.testing.assert_array_equal(sequence.pad_sequences(case['sequences'], **case['kwargs']),
                                  case['answer'])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match='padding must be "pre" or "post"'):
        sequence.pad_sequences([[1]], padding='middle')
    with pytest.raises(ValueError, match='truncating must be'):
        sequence.pad_sequences([[1]], truncating='both')
    with pytest.raises(ValueError, match='entry 1 is 5'):
        sequence.pad_sequences([[1], 5])
    with pytest.raises(ValueError, match='sequence 1 have shape'):
        sequence.pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match='maxlen must be'):
        sequence.pad_sequences([[1]], maxlen=-2)
    assert sequence.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert sequence.pad_sequences([]).shape == (0, 0)


def test_sampling_table_and_skipgrams_match_keras_1_2_2():
    case = K122['sampling_table']
    np.testing.assert_allclose(sequence.make_sampling_table(case['size'], case['sampling_factor']),
                               case['answer'], rtol=1e-12)
    for case in K122['skipgrams']:
        random.seed(case['seed'])
        kwargs = dict(case['kwargs'])
        if 'sampling_table' in kwargs:
            kwargs['sampling_table'] = np.array(kwargs['sampling_table'])
        couples, labels = sequence.skipgrams(case['sequence'], case['vocabulary_size'], **kwargs)
        assert couples == case['couples'], case['kwargs']
        assert labels == case['labels']
        assert random.random() == case['next_random']  # the same draws from `random`


def test_skipgram_errors():
    with pytest.raises(ValueError, match='negative_samples must be >= 0'):
        sequence.skipgrams([1, 2], 5, negative_samples=-1)
    assert sequence.skipgrams([0, 0], 5) == ([], [])
