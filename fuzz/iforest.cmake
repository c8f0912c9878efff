# Isolation Forest: the pickle/joblib reader (with the scikit-learn importer
# on top) and the model file parser.
mh_add_fuzzer(pickle DEPS mh_iforest)
mh_add_fuzzer(model_file DEPS mh_iforest)
