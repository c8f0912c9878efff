// Placeholder so that the component library exists before its first source.
namespace mh {
int parquet_placeholder = 0;
}
